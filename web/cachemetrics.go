package web

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/terroir-coop/terroir/internal/lru"
	"github.com/terroir-coop/terroir/web/catalogcache"
	"github.com/terroir-coop/terroir/web/trace"
)

// DefaultCacheBytes is the page caches' budget when Config.CacheBytes is
// zero: 96 MiB, half for trace records and pages (about 4 500 lots with
// their pages), half for the catalogues' rendered pages (every product page
// of five channels of 1 000 SKUs takes 8 MiB gzipped, so three languages
// fit with room). With the default soft memory limit (cmd/terroir) it keeps
// RSS under 200 MiB after the load tool's default mix (BENCHMARKS.md).
const DefaultCacheBytes = 96 << 20

// registerCacheMetrics publishes how full the page caches are and how
// many trace pages were rendered:
//
//	terroir_cache_bytes{cache}, terroir_cache_budget_bytes{cache}, terroir_cache_entries{cache}
//	terroir_cache_evictions_total{cache}   entries pushed out by the budget
//	terroir_trace_renders_total            trace pages rendered (a warm scan renders none)
func registerCacheMetrics(reg prometheus.Registerer, tr *trace.Handlers, channels *catalogcache.Cache) {
	for name, stats := range map[string]func() lru.Stats{"trace": tr.CacheStats, "catalog_pages": channels.PageStats} {
		labels := prometheus.Labels{"cache": name}
		reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "terroir_cache_bytes", Help: "Bytes a page cache holds (records estimated, pages exact).", ConstLabels: labels},
				func() float64 { return float64(stats().Bytes) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "terroir_cache_budget_bytes", Help: "A page cache's byte budget.", ConstLabels: labels},
				func() float64 { return float64(stats().Budget) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "terroir_cache_entries", Help: "Entries a page cache holds.", ConstLabels: labels},
				func() float64 { return float64(stats().Entries) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "terroir_cache_evictions_total", Help: "Entries a page cache evicted to keep its budget.", ConstLabels: labels},
				func() float64 { return float64(stats().Evicted) }),
		)
	}
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "terroir_trace_renders_total", Help: "Trace pages rendered (a page served from the cache is not)."},
		func() float64 { return float64(tr.Renders()) }))
}
