// SPDX-License-Identifier: MIT
/* Unit tests of profiler/cgroup.c on /proc/PID/cgroup texts from real machines. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cgroup.h"

#define ID "4f1c2e7a9b3d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7"

struct cgroup_case {
	const char *name;
	const char *text;
	const char *cgroup, *container_id, *systemd_unit;
};

static const struct cgroup_case cases[] = {
	{"v2 service", "0::/system.slice/nginx.service\n", "/system.slice/nginx.service", "",
	 "nginx.service"},
	{"v2 session", "0::/user.slice/user-1000.slice/session-3.scope\n",
	 "/user.slice/user-1000.slice/session-3.scope", "", "session-3.scope"},
	{"v2 user service",
	 "0::/user.slice/user-1000.slice/user@1000.service/app.slice/dbus.socket\n",
	 "/user.slice/user-1000.slice/user@1000.service/app.slice/dbus.socket", "", "dbus.socket"},
	{"v2 root", "0::/\n", "/", "", ""},
	{"v2 init.scope", "0::/init.scope\n", "/init.scope", "", "init.scope"},
	{"docker systemd driver", "0::/system.slice/docker-" ID ".scope\n",
	 "/system.slice/docker-" ID ".scope", ID, "docker-" ID ".scope"},
	{"docker cgroupfs driver", "0::/docker/" ID "\n", "/docker/" ID, ID, ""},
	{"containerd k8s systemd",
	 "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0a1b2c3d_4e5f_6789_abcd_ef0123456789.slice/cri-containerd-" ID
	 ".scope\n",
	 "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0a1b2c3d_4e5f_6789_abcd_ef0123456789.slice/cri-containerd-" ID
	 ".scope",
	 ID, "cri-containerd-" ID ".scope"},
	{"k8s cgroupfs", "0::/kubepods/burstable/pod0a1b2c3d-4e5f-6789-abcd-ef0123456789/" ID "\n",
	 "/kubepods/burstable/pod0a1b2c3d-4e5f-6789-abcd-ef0123456789/" ID, ID, ""},
	{"cri-o", "0::/kubepods.slice/kubepods-besteffort.slice/crio-" ID ".scope\n",
	 "/kubepods.slice/kubepods-besteffort.slice/crio-" ID ".scope", ID, "crio-" ID ".scope"},
	{"podman rootless",
	 "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID ".scope\n",
	 "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID ".scope", ID,
	 "libpod-" ID ".scope"},
	{"podman conmon is no container", "0::/machine.slice/libpod-conmon-" ID ".scope\n",
	 "/machine.slice/libpod-conmon-" ID ".scope", "", "libpod-conmon-" ID ".scope"},
	{"systemd inside a container", "0::/system.slice/docker-" ID ".scope/init.scope\n",
	 "/system.slice/docker-" ID ".scope/init.scope", ID, "init.scope"},
	{"v1 docker",
	 "12:pids:/docker/" ID "\n11:cpu,cpuacct:/docker/" ID "\n1:name=systemd:/docker/" ID "\n",
	 "/docker/" ID, ID, ""},
	{"v1 prefers name=systemd over cpu",
	 "5:cpu,cpuacct:/system.slice/cron.service\n1:name=systemd:/system.slice/ssh.service\n",
	 "/system.slice/ssh.service", "", "ssh.service"},
	{"v1 cpu only", "3:memory:/foo\n4:cpuacct,cpu:/system.slice/cron.service\n",
	 "/system.slice/cron.service", "", "cron.service"},
	{"cpuset is not cpu", "3:cpuset:/system.slice/a.service\n0::/\n", "/", "", ""},
	{"hybrid: v2 root loses to name=systemd",
	 "9:name=systemd:/system.slice/docker-" ID ".scope\n8:pids:/\n0::/\n",
	 "/system.slice/docker-" ID ".scope", ID, "docker-" ID ".scope"},
	{"v2 wins over v1", "1:name=systemd:/a.service\n0::/system.slice/b.service\n",
	 "/system.slice/b.service", "", "b.service"},
	{"upper-case hex is no id",
	 "0::/docker/4F1C2E7A9B3D5E6F708192A3B4C5D6E7F8091A2B3C4D5E6F708192A3B4C5D6E7\n",
	 "/docker/4F1C2E7A9B3D5E6F708192A3B4C5D6E7F8091A2B3C4D5E6F708192A3B4C5D6E7", "", ""},
	{"63 hex digits is no id",
	 "0::/docker/4f1c2e7a9b3d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e\n",
	 "/docker/4f1c2e7a9b3d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e", "", ""},
	{"bare suffix is no unit", "0::/x/.service\n", "/x/.service", "", ""},
	{"no final newline, junk lines", "garbage\n:::\n0::/system.slice/a.service",
	 "/system.slice/a.service", "", "a.service"},
};

static void test_real_world(void **state)
{
	struct cgroup_info info;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&info, 0x55, sizeof(info));
		if (cgroup__parse(cases[i].text, strlen(cases[i].text), &info))
			fail_msg("%s: does not parse", cases[i].name);
		if (strcmp(info.cgroup, cases[i].cgroup))
			fail_msg("%s: cgroup '%s', want '%s'", cases[i].name, info.cgroup,
				 cases[i].cgroup);
		if (strcmp(info.container_id, cases[i].container_id))
			fail_msg("%s: container_id '%s', want '%s'", cases[i].name,
				 info.container_id, cases[i].container_id);
		if (strcmp(info.systemd_unit, cases[i].systemd_unit))
			fail_msg("%s: systemd_unit '%s', want '%s'", cases[i].name,
				 info.systemd_unit, cases[i].systemd_unit);
	}
}

static void test_unparsable(void **state)
{
	static const char *const texts[] = {
		"", "\n\n", "hello", "0::relative/path\n", "x::/a\n", "0:/a\n", "7:memory:/a\n"};
	struct cgroup_info info;
	size_t i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		assert_int_equal(cgroup__parse(texts[i], strlen(texts[i]), &info), -EBADMSG);
}

static void test_long_path(void **state)
{
	char text[1200], *p = text;
	struct cgroup_info info;
	int i;

	p += sprintf(p, "0::");
	for (i = 0; i < 40; i++)
		p += sprintf(p, "/level%02d.slice", i);
	p += sprintf(p, "/docker-" ID ".scope\n");
	assert_int_equal(cgroup__parse(text, strlen(text), &info), 0);
	assert_int_equal(strlen(info.cgroup), sizeof(info.cgroup) - 1);
	assert_true(!strncmp(info.cgroup, "/level00.slice/level01.slice", 28));
	assert_string_equal(info.container_id, ID);
	assert_string_equal(info.systemd_unit, "docker-" ID ".scope");

	/* A unit name too long to keep is left out, not cut; the one above it is not used. */
	p = text;
	p += sprintf(p, "0::/system.slice/");
	for (i = 0; i < 140; i++)
		*p++ = 'u';
	p += sprintf(p, ".service\n");
	assert_int_equal(cgroup__parse(text, strlen(text), &info), 0);
	assert_string_equal(info.systemd_unit, "");
}

static void test_read_self(void **state)
{
	struct cgroup_info info;

	/* Every Linux process has one; the test only checks it parses. */
	assert_int_equal(cgroup__read(getpid(), &info), 0);
	assert_true(info.cgroup[0] == '/');
	assert_int_equal(cgroup__read(-1, &info), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_world),
		cmocka_unit_test(test_unparsable),
		cmocka_unit_test(test_long_path),
		cmocka_unit_test(test_read_self),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
