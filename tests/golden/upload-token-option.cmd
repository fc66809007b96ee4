# Secrets are never taken on the command line: --token and friends do not exist.
$SMOLDER upload --token s3cret http://127.0.0.1:9 x.pb.gz; $SMOLDER upload --password=s3cret http://127.0.0.1:9 x.pb.gz
