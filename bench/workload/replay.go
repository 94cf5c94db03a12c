package workload

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Replay reads a trace in the Azure Functions 2019 per-minute format: a
// header, then one row per function with HashOwner, HashApp, HashFunction,
// Trigger and then invocation counts for minutes 1..N. Each minute's
// arrivals are spread uniformly at random within that minute.
type Replay struct {
	Seed int64
	// Minute is how long one trace minute lasts in the run; zero means a
	// real minute. A smaller value compresses the trace.
	Minute time.Duration
	// MaxMinutes limits how many minutes are replayed; zero means all.
	MaxMinutes int
	MemoryMB   int
	Exec       time.Duration
}

const traceFixedColumns = 4

// ReadTrace generates the replay workload of the trace read from in.
func ReadTrace(in io.Reader, p Replay) (*Workload, error) {
	minute := p.Minute
	if minute <= 0 {
		minute = time.Minute
	}
	rd := csv.NewReader(in)
	rd.FieldsPerRecord = -1
	header, err := rd.Read()
	if err != nil {
		return nil, fmt.Errorf("workload: trace header: %w", err)
	}
	minutes := len(header) - traceFixedColumns
	if minutes < 1 || !strings.EqualFold(strings.TrimSpace(header[0]), "HashOwner") {
		return nil, fmt.Errorf("workload: trace header %q is invalid: want HashOwner,HashApp,HashFunction,Trigger,1,2,...", strings.Join(header, ","))
	}
	if p.MaxMinutes > 0 {
		minutes = min(minutes, p.MaxMinutes)
	}
	r := newRand(p.Seed)
	w := &Workload{Name: "replay", Seed: p.Seed, Duration: time.Duration(minutes) * minute}
	for line := 2; ; line++ {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("workload: trace line %d: %w", line, err)
		}
		if len(rec) < traceFixedColumns+minutes {
			return nil, fmt.Errorf("workload: trace line %d has %d columns: want at least %d", line, len(rec), traceFixedColumns+minutes)
		}
		f := len(w.Functions)
		total := 0
		for m := 0; m < minutes; m++ {
			cell := strings.TrimSpace(rec[traceFixedColumns+m])
			n, err := strconv.Atoi(cell)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("workload: trace line %d minute %d: count %q is invalid: must be a whole number >= 0", line, m+1, cell)
			}
			total += n
			for range n {
				at := time.Duration(m)*minute + time.Duration(r.Float64()*float64(minute))
				w.Arrivals = append(w.Arrivals, Arrival{At: at, Function: f, Exec: p.Exec})
			}
		}
		w.Functions = append(w.Functions, Function{
			Name:       rec[2],
			MemoryMB:   p.MemoryMB,
			Rate:       float64(total) / w.Duration.Seconds(),
			ExecMedian: p.Exec,
		})
	}
	w.sortArrivals()
	return w, nil
}
