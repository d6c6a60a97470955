using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Health.V1;
using Grpc.Reflection.V1;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace ParallelNet.Rpc.Tests;

public abstract class HealthAndReflectionTests(ServerFixture fixture)
{
    private static readonly Method<HealthCheckRequest, HealthCheckResponse> Check = Method.Create<HealthCheckRequest, HealthCheckResponse>(MethodType.Unary, "grpc.health.v1.Health", "Check");
    private static readonly Method<HealthCheckRequest, HealthCheckResponse> Watch = Method.Create<HealthCheckRequest, HealthCheckResponse>(MethodType.ServerStreaming, "grpc.health.v1.Health", "Watch");

    private static Method<ServerReflectionRequest, ServerReflectionResponse> Reflection(string version) =>
        Method.Create<ServerReflectionRequest, ServerReflectionResponse>(MethodType.DuplexStreaming, $"grpc.reflection.{version}.ServerReflection", "ServerReflectionInfo");

    [Fact]
    public async Task Check_reports_the_server_and_each_hosted_service_as_serving()
    {
        Assert.Equal(ServingStatus.Serving, (await fixture.Client.AsyncUnaryCall(Check, new HealthCheckRequest())).Status);
        Assert.Equal(ServingStatus.Serving, (await fixture.Client.AsyncUnaryCall(Check, new HealthCheckRequest { Service = TestService.Name })).Status);
        var error = await Assert.ThrowsAsync<RpcException>(async () => await fixture.Client.AsyncUnaryCall(Check, new HealthCheckRequest { Service = "no.such.Service" }));
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public async Task Watch_sends_the_current_status_then_each_change()
    {
        var service = "watched." + Guid.NewGuid().ToString("N");
        using var call = fixture.Client.AsyncServerStreamingCall(Watch, new HealthCheckRequest { Service = service });
        Assert.True(await call.ResponseStream.MoveNext(default));
        Assert.Equal(ServingStatus.ServiceUnknown, call.ResponseStream.Current.Status);

        fixture.Server.Health.SetStatus(service, ServingStatus.Serving);
        Assert.True(await call.ResponseStream.MoveNext(default).WaitAsync(Waits.Long));
        Assert.Equal(ServingStatus.Serving, call.ResponseStream.Current.Status);

        fixture.Server.Health.SetStatus(service, ServingStatus.NotServing);
        Assert.True(await call.ResponseStream.MoveNext(default).WaitAsync(Waits.Long));
        Assert.Equal(ServingStatus.NotServing, call.ResponseStream.Current.Status);
    }

    [Theory]
    [InlineData("v1")]
    [InlineData("v1alpha")]
    public async Task Reflection_lists_services_and_returns_descriptors_with_dependencies(string version)
    {
        using var call = fixture.Client.AsyncDuplexStreamingCall(Reflection(version));
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        Assert.True(await call.ResponseStream.MoveNext(default));
        var names = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        Assert.Contains(TestService.Name, names);
        Assert.Contains("grpc.health.v1.Health", names);
        Assert.Contains("grpc.reflection.v1.ServerReflection", names);
        Assert.Contains("grpc.reflection.v1alpha.ServerReflection", names);

        await call.RequestStream.WriteAsync(new ServerReflectionRequest { FileContainingSymbol = TestService.Name + ".Echo" });
        Assert.True(await call.ResponseStream.MoveNext(default));
        var files = call.ResponseStream.Current.FileDescriptorResponse.FileDescriptorProto.Select(FileDescriptorProto.Parser.ParseFrom).ToList();
        var file = Assert.Single(files);
        Assert.Equal("parallelnet/test/v1/test_service.proto", file.Name);
        Assert.Contains(file.Service.Single().Method, m => m.Name == "Duplex" && m.ClientStreaming && m.ServerStreaming);

        await call.RequestStream.WriteAsync(new ServerReflectionRequest { FileByFilename = "grpc/health/v1/health.proto" });
        Assert.True(await call.ResponseStream.MoveNext(default));
        Assert.Equal("grpc.health.v1", FileDescriptorProto.Parser.ParseFrom(call.ResponseStream.Current.FileDescriptorResponse.FileDescriptorProto[0]).Package);

        await call.RequestStream.WriteAsync(new ServerReflectionRequest { FileContainingSymbol = "parallelnet.test.v1.EchoRequest" });
        Assert.True(await call.ResponseStream.MoveNext(default));
        Assert.Equal(ServerReflectionResponse.MessageResponseOneofCase.FileDescriptorResponse, call.ResponseStream.Current.MessageResponseCase);

        await call.RequestStream.WriteAsync(new ServerReflectionRequest { FileContainingSymbol = "no.Such" });
        Assert.True(await call.ResponseStream.MoveNext(default));
        Assert.Equal((int)StatusCode.NotFound, call.ResponseStream.Current.ErrorResponse.ErrorCode);

        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext(default));
    }

    [Fact]
    public async Task Reflection_sends_transitive_dependencies()
    {
        // A file importing well-known types must come with them, or tools cannot build its descriptor pool.
        var fileWithImports = FileDescriptor.BuildFromByteStrings([
            Google.Protobuf.WellKnownTypes.TimestampReflection.Descriptor.SerializedData,
            new FileDescriptorProto
            {
                Name = "x/uses_timestamp.proto", Package = "x", Syntax = "proto3",
                Dependency = { "google/protobuf/timestamp.proto" },
                MessageType = { new DescriptorProto { Name = "M", Field = { new FieldDescriptorProto { Name = "t", Number = 1, Type = FieldDescriptorProto.Types.Type.Message, TypeName = ".google.protobuf.Timestamp", Label = FieldDescriptorProto.Types.Label.Optional } } } },
                Service = { new ServiceDescriptorProto { Name = "S", Method = { new MethodDescriptorProto { Name = "Get", InputType = ".x.M", OutputType = ".x.M" } } } },
            }.ToByteString(),
        ]);
        var reflection = new Internal.ReflectionService([fileWithImports[1].Services[0]]);
        var answer = reflection.Answer(new ServerReflectionRequest { FileContainingSymbol = "x.S" });
        var names = answer.FileDescriptorResponse.FileDescriptorProto.Select(b => FileDescriptorProto.Parser.ParseFrom(b).Name).ToList();
        Assert.Equal(["x/uses_timestamp.proto", "google/protobuf/timestamp.proto"], names);
    }
}

public sealed class HealthAndReflectionTestsOnKestrel(ServerFixture fixture) : HealthAndReflectionTests(fixture), IClassFixture<ServerFixture>;

public sealed class HealthAndReflectionTestsOnOwnHttp2(OwnHttp2ServerFixture fixture) : HealthAndReflectionTests(fixture), IClassFixture<OwnHttp2ServerFixture>;
