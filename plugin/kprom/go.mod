module github.com/kprod-io/kprod/plugin/kprom

go 1.26.0

require github.com/kprod-io/kprod v0.0.0

require github.com/prometheus/client_golang v1.25.0 // indirect

replace github.com/kprod-io/kprod => ../..
