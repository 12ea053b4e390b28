// pulumi-resource-scaleway (DOUBLE): a stand-in for the pulumiverse Scaleway provider plugin.
//
// THIS IS A TEST DOUBLE, NOT THE SCALEWAY PROVIDER. The real provider
// (github.com/pulumiverse/pulumi-scaleway/provider) needs a pulumi-terraform-bridge the Go module
// proxy of this machine refuses, so the tests that run the real `pulumi` CLI load this double under
// the provider's name instead. Everything around it stays real: the CLI, the engine, the language
// host, the program, the Python SDKs, the DataPacket dynamic provider and the policy pack.
//
// What it does is what the engine needs of a provider during `pulumi preview` of a new stack:
//   - Check returns the program's inputs unchanged (no defaults, no validation: a real provider
//     would add defaults, which the fidelity figure of docs/pack.md accounts for);
//   - Create in preview echoes the inputs and leaves every other output unknown (the Python SDK
//     resolves a missing output of a previewed resource as unknown, as with the real provider);
//   - Create outside preview (`pulumi up`) refuses and, when DPAGUARD_DOUBLE_LOG names a file,
//     appends the resource's URN to it, so a test can prove the policy pack blocked the update
//     before anything was created;
//   - Invoke (a data-source lookup) answers with a failure that names the double.
package main

import (
	"context"
	"fmt"
	"os"

	pbempty "google.golang.org/protobuf/types/known/emptypb"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// version is the pulumiverse-scaleway version the estate's SDK asks for; the engine matches it.
var version = "1.60.0"

type double struct {
	pulumirpc.UnimplementedResourceProviderServer
}

func (double) GetPluginInfo(context.Context, *pbempty.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (double) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{Schema: `{"name":"scaleway","description":"DOUBLE: a test stand-in, not the Scaleway provider"}`}, nil
}

func (double) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (double) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

func (double) Configure(context.Context, *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true, AcceptResources: true, AcceptOutputs: true}, nil
}

func (double) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (double) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_UNKNOWN}, nil
}

func (double) Create(_ context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	if req.GetPreview() {
		return &pulumirpc.CreateResponse{Id: "", Properties: req.GetProperties()}, nil
	}
	if log := os.Getenv("DPAGUARD_DOUBLE_LOG"); log != "" {
		if f, err := os.OpenFile(log, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
			fmt.Fprintln(f, req.GetUrn())
			_ = f.Close()
		}
	}
	return nil, fmt.Errorf("scaleway provider DOUBLE: creates nothing (%s)", req.GetUrn())
}

func (double) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	return &pulumirpc.ReadResponse{}, nil
}

func (double) Update(_ context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	if req.GetPreview() {
		return &pulumirpc.UpdateResponse{Properties: req.GetNews()}, nil
	}
	return nil, fmt.Errorf("scaleway provider DOUBLE: updates nothing (%s)", req.GetUrn())
}

func (double) Delete(context.Context, *pulumirpc.DeleteRequest) (*pbempty.Empty, error) {
	return &pbempty.Empty{}, nil
}

func (double) Invoke(_ context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	return &pulumirpc.InvokeResponse{Failures: []*pulumirpc.CheckFailure{{
		Reason: fmt.Sprintf("scaleway provider DOUBLE: no lookups (%s)", req.GetTok()),
	}}}, nil
}

func (double) Cancel(context.Context, *pbempty.Empty) (*pbempty.Empty, error) {
	return &pbempty.Empty{}, nil
}

func main() {
	err := provider.Main("scaleway", func(*provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		return double{}, nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
