package main

import (
	"fmt"
	"strings"
)

// flagSpec describes one command-line option in the style of Kafka's tools
// (argparse4j / joptsimple): --name value, --name=value, and for multi-valued options
// every following argument up to the next one starting with "--".
type flagSpec struct {
	name     string
	multi    bool // takes one or more values
	bool     bool // takes no value
	optional bool // the value may be left out ("" then), as joptsimple's optional arguments
	help     string
}

type parsed struct {
	values map[string][]string
}

func (p parsed) str(name, def string) string {
	if v, ok := p.values[name]; ok && len(v) > 0 {
		return v[len(v)-1]
	}
	return def
}

func (p parsed) has(name string) bool { _, ok := p.values[name]; return ok }

func (p parsed) all(name string) []string { return p.values[name] }

// parseArgs parses args against specs; unknown options are errors.
func parseArgs(specs []flagSpec, args []string) (parsed, error) {
	out := parsed{values: map[string][]string{}}
	byName := map[string]flagSpec{}
	for _, s := range specs {
		byName[s.name] = s
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "-h" {
			a = "--help" // argparse4j's short help, as Kafka's tools take it
		}
		if !strings.HasPrefix(a, "--") {
			return out, fmt.Errorf("unexpected argument %q", a)
		}
		name, val, hasVal := strings.Cut(a[2:], "=")
		s, ok := byName[name]
		if !ok {
			return out, fmt.Errorf("unknown option --%s", name)
		}
		switch {
		case s.bool:
			if hasVal {
				return out, fmt.Errorf("option --%s takes no value", name)
			}
			out.values[name] = append(out.values[name], "true")
		case hasVal:
			out.values[name] = append(out.values[name], val)
		case s.optional && (i+1 >= len(args) || strings.HasPrefix(args[i+1], "--")):
			out.values[name] = append(out.values[name], "")
		case s.multi:
			n := 0
			for i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
				i++
				n++
				out.values[name] = append(out.values[name], args[i])
			}
			if n == 0 {
				return out, fmt.Errorf("option --%s needs at least one value", name)
			}
		default:
			if i+1 >= len(args) {
				return out, fmt.Errorf("option --%s needs a value", name)
			}
			i++
			out.values[name] = append(out.values[name], args[i])
		}
	}
	return out, nil
}

func usage(cmd, summary string, specs []flagSpec) string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: kprod %s [options]\n%s\n\noptions:\n", cmd, summary)
	for _, s := range specs {
		arg := " VALUE"
		switch {
		case s.bool:
			arg = ""
		case s.multi:
			arg = " VALUE..."
		case s.optional:
			arg = " [VALUE]"
		}
		fmt.Fprintf(&b, "  --%s%s\n      %s\n", s.name, arg, s.help)
	}
	return b.String()
}

// splitProps turns k=v arguments into a map.
func splitProps(kvs []string) (map[string]string, error) {
	m := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("invalid property %q: want key=value", kv)
		}
		m[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return m, nil
}
