namespace ParallelNet.Tensors.OpenCL;

/// <summary>
/// An OpenCL or CLBlast call failed, or no OpenCL runtime is usable. The message names the call and
/// the error code (with its symbolic name), so it can be looked up in the OpenCL or CLBlast headers.
/// </summary>
public sealed class OpenClException : Exception
{
    public OpenClException(string message, int errorCode = 0, Exception? inner = null) : base(message, inner) => ErrorCode = errorCode;

    /// <summary>The OpenCL (or CLBlast) status code, 0 when the failure was not a call's status.</summary>
    public int ErrorCode { get; }
}
