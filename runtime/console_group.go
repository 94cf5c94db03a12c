package runtime

import (
	"math"
	"strings"
)

// groupArrayEntries lays out the entries of an array of more than six
// short items in aligned columns, as Node's util.inspect does, so that
// [1, 2, ..., 26] takes a few lines rather than one per item. numeric
// right-aligns the columns. truncated says the last entry is the
// "... n more items" note, which keeps a line of its own.
func groupArrayEntries(entries []string, indent int, numeric, truncated bool) []string {
	const separatorSpace = 2 // ", " between two entries
	n := len(entries)
	if truncated {
		n--
	}
	totalLength, maxLength := 0, 0
	for _, e := range entries[:n] {
		totalLength += len(e) + separatorSpace
		maxLength = max(maxLength, len(e))
	}
	actualMax := maxLength + separatorSpace
	if actualMax*3+indent >= inspectBreakLength || (float64(totalLength)/float64(actualMax) <= 5 && maxLength > 6) {
		return entries
	}
	averageBias := math.Sqrt(float64(actualMax) - float64(totalLength)/float64(len(entries)))
	biasedMax := math.Max(float64(actualMax)-3-averageBias, 1)
	columns := min(
		int(math.Round(math.Sqrt(2.5*biasedMax*float64(n))/biasedMax)),
		(inspectBreakLength-indent)/actualMax,
		inspectCompact*4,
		15,
	)
	if columns <= 1 {
		return entries
	}
	widths := make([]int, columns)
	for i := range columns {
		for j := i; j < n; j += columns {
			widths[i] = max(widths[i], len(entries[j]))
		}
		widths[i] += separatorSpace
	}
	var grouped []string
	for i := 0; i < n; i += columns {
		end := min(i+columns, n)
		var line strings.Builder
		for j := i; j < end; j++ {
			cell := entries[j]
			width := widths[j-i]
			if j < end-1 {
				cell += ", "
			} else {
				width -= separatorSpace
			}
			pad := strings.Repeat(" ", max(width-len(cell), 0))
			switch {
			case numeric:
				line.WriteString(pad + cell)
			case j < end-1:
				line.WriteString(cell + pad)
			default:
				line.WriteString(cell)
			}
		}
		grouped = append(grouped, line.String())
	}
	if truncated {
		grouped = append(grouped, entries[n])
	}
	return grouped
}
