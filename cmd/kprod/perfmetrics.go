package main

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"github.com/kprod-io/kprod"
)

// printProducerMetrics prints the producer's metrics as Java's ProducerPerformance
// --print-metrics does (ToolsUtils.printMetrics): a "Metric Name   Value" header, then
// one line per metric sorted by "group:name:{tags}", the name padded to the longest and
// the value with three decimals. Tags print as Java's map does, client-id first:
// {client-id=perf, topic=t}.
func printProducerMetrics(w io.Writer, ms []kprod.Metric) {
	if len(ms) == 0 {
		return
	}
	type line struct {
		name  string
		value float64
	}
	lines := make([]line, 0, len(ms))
	width := 0
	for _, m := range ms {
		name := m.Group + ":" + m.Name + ":" + javaTags(m.Tags)
		width = max(width, len(name))
		lines = append(lines, line{name, m.Value})
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i].name < lines[j].name })
	fmt.Fprintf(w, "\n%-*s   %s\n", width, "Metric Name", "Value")
	for _, l := range lines {
		fmt.Fprintf(w, "%-*s : %s\n", width, l.name, javaDouble(l.value))
	}
}

// javaTags prints tags as Java's LinkedHashMap.toString of a MetricName's tags: the
// client-id first (the producer's own tag), then the metric's.
func javaTags(tags map[string]string) string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		if k != "client-id" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if _, ok := tags["client-id"]; ok {
		keys = append([]string{"client-id"}, keys...)
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k + "=" + tags[k])
	}
	b.WriteByte('}')
	return b.String()
}

// javaDouble formats v as Java's String.format("%.3f"): NaN and the infinities as Java
// spells them.
func javaDouble(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	}
	return fmt.Sprintf("%.3f", v)
}
