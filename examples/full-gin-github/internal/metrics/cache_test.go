package metrics

import (
	"strings"
	"testing"
)

func TestCacheMetrics(t *testing.T) {
	m := New()
	c := m.RegisterCache()
	if out := scrape(t, m); !strings.Contains(out, `cache_requests_total{result="error"} 0`) {
		t.Errorf("a fresh registry lacks the zero error series:\n%s", out)
	}
	c.Hit()
	c.Hit()
	c.Hit()
	c.Miss()
	c.Error()
	c.Bypass()
	c.Bypass()
	out := scrape(t, m)
	for _, want := range []string{
		`cache_requests_total{result="hit"} 3`,
		`cache_requests_total{result="miss"} 1`,
		`cache_requests_total{result="error"} 1`,
		`cache_requests_total{result="bypass"} 2`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
}
