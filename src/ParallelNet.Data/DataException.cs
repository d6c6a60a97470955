namespace ParallelNet.Data;

/// <summary>
/// A data set could not be found, read or built. The message is meant for the end user: it names the
/// file (and line, where there is one), says what is wrong and, where possible, what to do about it.
/// </summary>
public sealed class DataException : Exception
{
    public DataException(string message) : base(message) { }
    public DataException(string message, Exception inner) : base(message, inner) { }
}
