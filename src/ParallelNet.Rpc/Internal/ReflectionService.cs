using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Reflection.V1;

namespace ParallelNet.Rpc.Internal;

/// <summary>
/// Server reflection (grpc.reflection.v1 and v1alpha share one wire schema, so both are served
/// with the v1 messages): lists the hosted services and hands out their .proto descriptors with
/// every transitive dependency, which is what grpcurl and similar tools need to call them.
/// </summary>
internal sealed class ReflectionService
{
    public const string V1Name = "grpc.reflection.v1.ServerReflection";
    public const string V1AlphaName = "grpc.reflection.v1alpha.ServerReflection";

    private readonly IReadOnlyList<string> _serviceNames;
    private readonly Dictionary<string, FileDescriptor> _filesByName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FileDescriptor> _filesBySymbol = new(StringComparer.Ordinal);

    public ReflectionService(IEnumerable<ServiceDescriptor> services)
    {
        var list = services.ToList();
        _serviceNames = list.Select(s => s.FullName).Distinct().Order(StringComparer.Ordinal).ToList();
        foreach (var service in list) AddFile(service.File);
    }

    public static ServerServiceDefinition[] CreateDefinitions(IEnumerable<ServiceDescriptor> hostedServices)
    {
        var v1 = ReflectionReflection.Descriptor.Services[0];
        var v1Alpha = Grpc.Reflection.V1Alpha.ReflectionReflection.Descriptor.Services[0];
        var service = new ReflectionService(hostedServices.Append(v1).Append(v1Alpha));
        return [Build(service, v1), Build(service, v1Alpha)];
    }

    private static ServerServiceDefinition Build(ReflectionService service, ServiceDescriptor descriptor)
    {
        var method = new Method<ServerReflectionRequest, ServerReflectionResponse>(MethodType.DuplexStreaming, descriptor.FullName,
            "ServerReflectionInfo", ServerReflectionRequest.Parser, ServerReflectionResponse.Parser);
        return ServerServiceDefinition.CreateBuilder(descriptor).AddMethod(method, service.ServeAsync).Build();
    }

    private async Task ServeAsync(IAsyncStreamReader<ServerReflectionRequest> requests, IServerStreamWriter<ServerReflectionResponse> responses, ServerCallContext context)
    {
        while (await requests.MoveNext(context.CancellationToken).ConfigureAwait(false))
            await responses.WriteAsync(Answer(requests.Current), context.CancellationToken).ConfigureAwait(false);
    }

    internal ServerReflectionResponse Answer(ServerReflectionRequest request)
    {
        var response = new ServerReflectionResponse { ValidHost = request.Host, OriginalRequest = request };
        switch (request.MessageRequestCase)
        {
            case ServerReflectionRequest.MessageRequestOneofCase.ListServices:
                var list = new ListServiceResponse();
                list.Service.AddRange(_serviceNames.Select(name => new ServiceResponse { Name = name }));
                response.ListServicesResponse = list;
                break;
            case ServerReflectionRequest.MessageRequestOneofCase.FileByFilename:
                response = WithFile(response, _filesByName.GetValueOrDefault(request.FileByFilename), $"File '{request.FileByFilename}' not found.");
                break;
            case ServerReflectionRequest.MessageRequestOneofCase.FileContainingSymbol:
                response = WithFile(response, _filesBySymbol.GetValueOrDefault(request.FileContainingSymbol), $"Symbol '{request.FileContainingSymbol}' not found.");
                break;
            case ServerReflectionRequest.MessageRequestOneofCase.AllExtensionNumbersOfType:
                // proto3 services declare no extensions; answer with an empty list for known types, as grpc-go does.
                if (_filesBySymbol.ContainsKey(request.AllExtensionNumbersOfType))
                    response.AllExtensionNumbersResponse = new ExtensionNumberResponse { BaseTypeName = request.AllExtensionNumbersOfType };
                else
                    response.ErrorResponse = Error(StatusCode.NotFound, $"Type '{request.AllExtensionNumbersOfType}' not found.");
                break;
            case ServerReflectionRequest.MessageRequestOneofCase.FileContainingExtension:
                response.ErrorResponse = Error(StatusCode.NotFound, "No extensions are registered with this server.");
                break;
            default:
                response.ErrorResponse = Error(StatusCode.InvalidArgument, "The reflection request names no query (set one field of message_request).");
                break;
        }
        return response;
    }

    private static ServerReflectionResponse WithFile(ServerReflectionResponse response, FileDescriptor? file, string notFound)
    {
        if (file is null)
        {
            response.ErrorResponse = Error(StatusCode.NotFound, notFound);
            return response;
        }
        var files = new FileDescriptorResponse();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<FileDescriptor>();
        pending.Push(file);
        while (pending.Count > 0)
        {
            var next = pending.Pop();
            if (!seen.Add(next.Name)) continue;
            files.FileDescriptorProto.Add(next.SerializedData);
            foreach (var dependency in next.Dependencies) pending.Push(dependency);
        }
        response.FileDescriptorResponse = files;
        return response;
    }

    private static ErrorResponse Error(StatusCode code, string message) => new() { ErrorCode = (int)code, ErrorMessage = message };

    private void AddFile(FileDescriptor file)
    {
        if (!_filesByName.TryAdd(file.Name, file)) return;
        foreach (var dependency in file.Dependencies) AddFile(dependency);
        foreach (var service in file.Services)
        {
            _filesBySymbol.TryAdd(service.FullName, file);
            foreach (var method in service.Methods) _filesBySymbol.TryAdd(method.FullName, file);
        }
        foreach (var message in file.MessageTypes) AddMessage(message, file);
        foreach (var enumType in file.EnumTypes) _filesBySymbol.TryAdd(enumType.FullName, file);
    }

    private void AddMessage(MessageDescriptor message, FileDescriptor file)
    {
        _filesBySymbol.TryAdd(message.FullName, file);
        foreach (var nested in message.NestedTypes) AddMessage(nested, file);
        foreach (var enumType in message.EnumTypes) _filesBySymbol.TryAdd(enumType.FullName, file);
    }
}
