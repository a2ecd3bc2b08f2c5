package health

import (
	"context"
	"fmt"
	"io"
	"net/http"
)

// Probe GETs url and returns nil when it answers 200 OK before ctx ends. It backs
// the binary's -healthcheck mode, which the container image's HEALTHCHECK runs:
// a distroless image has no shell or curl to probe with.
//
// Redirects are not followed and no proxy is used: the probe asks this very
// process, on loopback, whether it serves.
func Probe(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("health probe: %w", err)
	}
	client := &http.Client{
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("health probe: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health probe: GET %s answered %s", url, resp.Status)
	}
	return nil
}
