package relay

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The machine benchmarks run on is shared, so a rate measured on the wall
// clock swings with everyone else's load. CPU time spent per unit of work
// does not: cpuMeter measures it for this process and, optionally, every
// PostgreSQL process, and the benchmarks report the rate those CPU seconds
// would allow on two whole cores.

// cpuTime is this process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// postgresCPU sums user+system CPU of the PostgreSQL backends serving
// database db and of the server's shared writers (WAL writer, background
// writer, checkpointer), which commits also cost; other databases' backends
// (other tests on the same server) are left out. Linux /proc; 100 clock
// ticks a second, the Linux default.
func postgresCPU(db string) time.Duration {
	var total time.Duration
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range dirs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		title, _ := os.ReadFile(filepath.Join(filepath.Dir(p), "cmdline"))
		t := string(title)
		if !strings.Contains(t, " "+db+" ") && !strings.Contains(t, "walwriter") &&
			!strings.Contains(t, "background writer") && !strings.Contains(t, "checkpointer") {
			continue
		}
		s := string(b)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < open || s[open+1:close] != "postgres" {
			continue
		}
		f := strings.Fields(s[close+2:]) // from field 3 (state) on
		if len(f) < 13 {
			continue
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64) // field 14
		st, _ := strconv.ParseInt(f[12], 10, 64) // field 15
		total += time.Duration(ut+st) * 10 * time.Millisecond
	}
	return total
}

type cpuMeter struct {
	db       string // PostgreSQL database to count too; "" for none
	self, pg time.Duration
}

func startCPU(db string) *cpuMeter {
	m := &cpuMeter{db: db, self: cpuTime()}
	if db != "" {
		m.pg = postgresCPU(db)
	}
	return m
}

// perOp returns the CPU time per operation since start.
func (m *cpuMeter) perOp(n int) time.Duration {
	d := cpuTime() - m.self
	if m.db != "" {
		d += postgresCPU(m.db) - m.pg
	}
	return d / time.Duration(max(n, 1))
}
