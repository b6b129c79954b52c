package msgraph

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	core "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go-core/authentication"
)

// graphHosts are the hosts the SDK sends tokens to by default; the
// configured base URL's host is added, otherwise the auth provider would
// silently send requests without a token.
var graphHosts = []string{"graph.microsoft.com", "graph.microsoft.us", "dod-graph.microsoft.us",
	"graph.microsoft.de", "microsoftgraph.chinacloudapi.cn", "canary.graph.microsoft.com"}

// buildClient wires kiota's pipeline with its retry handler off: kiota-http-go
// v1.5.4 orders its middlewares from a Go map, so a PATCH retried outside the
// compression handler can be resent without its gzip body (DESIGN §10).
// Retries happen in retry.go instead, where every attempt is a fresh request.
func (d *Directory) buildClient() error {
	opts := msgraphsdk.GetDefaultClientOptions()
	mws := core.GetDefaultMiddlewaresWithOptions(&opts)
	replaced := false
	for i, m := range mws {
		if _, ok := m.(*khttp.RetryHandler); ok {
			mws[i] = khttp.NewRetryHandlerWithOptions(khttp.RetryHandlerOptions{
				ShouldRetry: func(time.Duration, int, *http.Request, *http.Response) bool { return false },
			})
			replaced = true
		}
	}
	if !replaced {
		return fmt.Errorf("kiota middleware list has no retry handler to turn off")
	}
	httpClient := &http.Client{
		Transport: khttp.NewCustomTransportWithParentTransport(d.transport, mws...),
		// Graph redirects are followed by kiota's redirect handler, which
		// drops the token on a host change; net/http must not follow them too.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       100 * time.Second,
	}
	bu, err := url.Parse(d.base)
	if err != nil {
		return fmt.Errorf("graph base URL: %w", err)
	}
	hosts := append([]string{bu.Hostname()}, graphHosts...)
	ap, err := authentication.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(d.cred, []string{GraphScope}, hosts)
	if err != nil {
		return fmt.Errorf("auth provider: %w", err)
	}
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(ap, nil, nil, httpClient)
	if err != nil {
		return fmt.Errorf("request adapter: %w", err)
	}
	adapter.SetBaseUrl(d.base)
	d.adapter = adapter
	d.client = msgraphsdk.NewGraphServiceClient(adapter)
	return nil
}
