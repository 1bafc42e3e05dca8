package testtool

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Need skips t unless every named command is on PATH (fails it under CI).
func Need(t testing.TB, names ...string) {
	t.Helper()
	for _, name := range names {
		if _, err := exec.LookPath(name); err != nil {
			missing(t, name, err)
		}
	}
}

func missing(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is required under CI: %v", what, err)
	}
	t.Skipf("%s not installed: %v", what, err)
}

// BouncyCastleClasspath is where Debian's libbcprov-java, libbcpkix-java and
// libbcutil-java put their jars.
const BouncyCastleClasspath = "/usr/share/java/bcprov.jar:/usr/share/java/bcpkix.jar:/usr/share/java/bcutil.jar"

// BouncyCastle compiles testdata/interop/Interop.java against BouncyCastle
// and returns a function that runs it with args (its jobs: "verify FILE",
// …) and returns what it printed, failing t if it fails.
func BouncyCastle(t testing.TB) func(args ...string) string {
	t.Helper()
	Need(t, "javac", "java")
	for _, jar := range strings.Split(BouncyCastleClasspath, ":") {
		if _, err := os.Stat(jar); err != nil {
			missing(t, "BouncyCastle", err)
		}
	}
	_, file, _, _ := runtime.Caller(0)
	source := filepath.Join(filepath.Dir(file), "..", "..", "testdata", "interop", "Interop.java")
	classes := t.TempDir()
	if out, err := exec.Command("javac", "-nowarn", "-cp", BouncyCastleClasspath, "-d", classes, source).CombinedOutput(); err != nil {
		t.Fatalf("javac Interop.java: %v\n%s", err, out)
	}
	return func(args ...string) string {
		t.Helper()
		out, err := exec.Command("java", append([]string{"-cp", classes + ":" + BouncyCastleClasspath, "Interop"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("java Interop %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
}
