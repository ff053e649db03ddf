package main

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// panel is one bar chart of a scenario: a metric per client, median bar and min–max
// whisker.
type panel struct {
	title string
	get   func(cell) summary
	unit  func(float64) string
	log   bool // latencies of saturated clients are 100x the others': log scale
}

// clientColors gives each client the same color in every chart.
var clientColors = map[string]string{
	"kprod": "#d62728", "franz-go": "#1f77b4", "confluent": "#2ca02c", "sarama": "#9467bd",
	"kafka-go": "#ff7f0e", "java": "#8c564b",
}

// svgChart draws records/s, CPU ns/record and p99 latency side by side, one bar per
// client, as a standalone SVG (no dependencies).
func svgChart(title string, cells []cell) string {
	panels := []panel{
		{"records/s (higher is better)", func(c cell) summary { return c.rps }, fmtCount, false},
		{"client CPU ns/record (lower is better)", func(c cell) summary { return c.cpu }, fmtNum, false},
		{"p99 latency µs at fixed load (log scale)", func(c cell) summary { return c.p99 }, fmtNum, true},
	}
	const (
		labelW = 90
		panelW = 250
		gap    = 30
		rowH   = 26
		top    = 50
	)
	var shown []cell
	for _, c := range cells {
		if c.runs > 0 {
			shown = append(shown, c)
		}
	}
	width := labelW + len(panels)*(panelW+gap) + 20
	height := top + len(shown)*rowH + 20
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="8" y="18" font-size="14" font-weight="bold">%s</text>`+"\n", html.EscapeString(title))
	for i, c := range shown {
		y := top + i*rowH
		fmt.Fprintf(&b, `<text x="8" y="%d">%s</text>`+"\n", y+rowH/2+4, html.EscapeString(c.client))
	}
	for pi, p := range panels {
		x0 := labelW + pi*(panelW+gap)
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11">%s</text>`+"\n", x0, top-10, html.EscapeString(p.title))
		maxV := 0.0
		for _, c := range shown {
			s := p.get(c)
			if s.n > 0 {
				maxV = math.Max(maxV, s.max)
			}
		}
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888"/>`+"\n", x0, top-4, x0, top+len(shown)*rowH)
		if maxV <= 0 {
			fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#888">not measured</text>`+"\n", x0+6, top+14)
			continue
		}
		minV := maxV
		for _, c := range shown {
			if s := p.get(c); s.n > 0 && s.min > 0 {
				minV = math.Min(minV, s.min)
			}
		}
		// pos maps a value to its bar length: linear, or log10 from a decade below the
		// smallest value so the smallest bar still shows.
		pos := func(v float64) float64 { return v * float64(panelW-60) / maxV }
		if p.log {
			lo := minV / 10
			pos = func(v float64) float64 {
				return math.Max(0, math.Log10(v/lo)/math.Log10(maxV/lo)) * float64(panelW-60)
			}
		}
		for i, c := range shown {
			s := p.get(c)
			if s.n == 0 {
				continue
			}
			y := top + i*rowH
			color := clientColors[c.client]
			if color == "" {
				color = "#7f7f7f"
			}
			w := pos(s.med)
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", x0, y+5, w, rowH-10, color)
			if s.n > 1 {
				cy := y + rowH/2
				fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="black"/>`+"\n", float64(x0)+pos(s.min), cy, float64(x0)+pos(s.max), cy)
				for _, v := range []float64{s.min, s.max} {
					fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="black"/>`+"\n", float64(x0)+pos(v), cy-4, float64(x0)+pos(v), cy+4)
				}
			}
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="10">%s</text>`+"\n", float64(x0)+pos(s.max)+4, y+rowH/2+4, p.unit(s.med))
		}
	}
	b.WriteString("</svg>\n")
	return b.String()
}
