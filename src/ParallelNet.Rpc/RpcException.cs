namespace ParallelNet.Rpc;

/// <summary>
/// A call ended with a non-OK status. Handlers throw it to answer with that status (and trailers);
/// clients receive it when the peer's status is not OK.
/// </summary>
public sealed class RpcException : Exception
{
    public RpcException(Status status) : this(status, new Metadata()) { }

    public RpcException(Status status, Metadata trailers) : this(status, trailers, null) { }

    public RpcException(Status status, Metadata trailers, Exception? innerException)
        : base($"Status(StatusCode=\"{status.StatusCode}\", Detail=\"{status.Detail}\")", innerException)
    {
        ArgumentNullException.ThrowIfNull(trailers);
        Status = status;
        Trailers = trailers;
    }

    public Status Status { get; }

    public StatusCode StatusCode => Status.StatusCode;

    public Metadata Trailers { get; }
}
