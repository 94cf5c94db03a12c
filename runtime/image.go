package runtime

import "fmt"

// Port is the TCP port the runtime listens on inside the container; the
// invoker connects to <container address>:Port.
const Port = 8080

// BinaryPath is where the invoker binary sits inside the runtime image.
const BinaryPath = "/invoker"

// Dockerfile returns the build recipe of the runtime image: the statically
// linked invoker binary, found as binaryName in the build context, on an
// empty base, started as "invoker runtime". The image has no shell and no
// /tmp; the runtime creates its temporary directory itself.
func Dockerfile(binaryName string) string {
	return fmt.Sprintf(`FROM scratch
COPY %s %s
EXPOSE %d
ENTRYPOINT ["%s", "runtime"]
`, binaryName, BinaryPath, Port, BinaryPath)
}
