package graphtest

// Shared test helpers: the real azidentity credentials and the real
// msgraph-sdk-go client, pointed at the emulator the way closure/msgraph does.

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	core "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go-core/authentication"
)

// graphScope is the token scope for Graph whatever the base URL (DESIGN §8).
var graphScope = []string{"https://graph.microsoft.com/.default"}

// azOptions points an azidentity credential at the emulator's authority,
// trusting its certificate.
func azOptions(s *Server) azcore.ClientOptions {
	return azcore.ClientOptions{
		Transport: s.Client(),
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: s.AuthorityHost()},
		Retry:     policy.RetryOptions{MaxRetries: -1},
	}
}

// secretCredential is a real ClientSecretCredential against the emulator.
func secretCredential(t testing.TB, s *Server, tenantID, clientID, secret string) *azidentity.ClientSecretCredential {
	t.Helper()
	cred, err := azidentity.NewClientSecretCredential(tenantID, clientID, secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions:            azOptions(s),
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatalf("client secret credential: %v", err)
	}
	return cred
}

// sdkHTTPClient is kiota's default Graph pipeline over a transport that
// trusts the emulator. retry=false turns the SDK's retry handler off.
func sdkHTTPClient(s *Server, retry bool) *http.Client {
	opts := msgraphsdk.GetDefaultClientOptions()
	mws := core.GetDefaultMiddlewaresWithOptions(&opts)
	if !retry {
		for i, m := range mws {
			if _, ok := m.(*khttp.RetryHandler); ok {
				mws[i] = khttp.NewRetryHandlerWithOptions(khttp.RetryHandlerOptions{
					ShouldRetry: func(time.Duration, int, *http.Request, *http.Response) bool { return false },
				})
			}
		}
	}
	parent := s.Client().Transport
	c := &http.Client{
		Transport: khttp.NewCustomTransportWithParentTransport(parent, mws...),
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return c
}

// graphClient is the real msgraph-sdk-go client on the emulator's v1.0 base.
func graphClient(t testing.TB, s *Server, cred azcore.TokenCredential, retry bool) (*msgraphsdk.GraphServiceClient, *msgraphsdk.GraphRequestAdapter) {
	t.Helper()
	ap, err := authentication.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(cred, graphScope, []string{"127.0.0.1"})
	if err != nil {
		t.Fatalf("auth provider: %v", err)
	}
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(ap, nil, nil, sdkHTTPClient(s, retry))
	if err != nil {
		t.Fatalf("adapter: %v", err)
	}
	adapter.SetBaseUrl(s.GraphURL())
	return msgraphsdk.NewGraphServiceClient(adapter), adapter
}

// deviceCodeCred is a real DeviceCodeCredential whose prompt hands the
// message to onPrompt (the test's "human").
func deviceCodeCred(t testing.TB, s *Server, tenant, clientID string, onPrompt func(azidentity.DeviceCodeMessage) error) *azidentity.DeviceCodeCredential {
	t.Helper()
	cred, err := azidentity.NewDeviceCodeCredential(&azidentity.DeviceCodeCredentialOptions{
		ClientOptions: azOptions(s), DisableInstanceDiscovery: true,
		TenantID: tenant, ClientID: clientID,
		UserPrompt: func(_ context.Context, m azidentity.DeviceCodeMessage) error { return onPrompt(m) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return cred
}
