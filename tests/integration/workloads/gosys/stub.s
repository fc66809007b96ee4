// Lets main.go declare runtime.systemstack without a body (go:linkname).
