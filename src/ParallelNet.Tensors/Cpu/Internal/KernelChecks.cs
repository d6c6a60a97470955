namespace ParallelNet.Tensors.Cpu.Internal;

/// <summary>Argument checks shared by the CPU kernels; every message names the operation and the sizes involved.</summary>
internal static class KernelChecks
{
    public static void SameLength(string op, int a, int b, string aName = "input", string bName = "output")
    {
        if (a != b) throw new ArgumentException($"{op}: {aName} has {a} elements but {bName} has {b}; they must have the same length.");
    }

    public static void Length(string op, string name, int actual, long expected)
    {
        if (actual != expected) throw new ArgumentException($"{op}: {name} has {actual} elements, expected {expected}.");
    }

    public static void AtLeast(string op, string name, int actual, long needed)
    {
        if (actual < needed) throw new ArgumentException($"{op}: {name} has {actual} elements, needs at least {needed}.");
    }

    public static void Positive(string op, string name, int value)
    {
        if (value <= 0) throw new ArgumentException($"{op}: {name} must be positive, got {value}.");
    }

    public static void DivisibleBy(string op, string name, int length, int divisor, string divisorName)
    {
        if (divisor <= 0) throw new ArgumentException($"{op}: {divisorName} must be positive, got {divisor}.");
        if (length % divisor != 0) throw new ArgumentException($"{op}: {name} has {length} elements, not a multiple of {divisorName} = {divisor}.");
    }

    public static void Probability(string op, string name, float p)
    {
        if (!(p >= 0f && p < 1f)) throw new ArgumentOutOfRangeException(name, $"{op}: {name} must be in [0, 1), got {p}.");
    }

    /// <summary>Labels are class indices stored as floats; anything else is a data bug worth stopping for.</summary>
    public static int Label(string op, float value, int row, int classes)
    {
        int label = (int)value;
        if (label != value || label < 0 || label >= classes)
            throw new ArgumentException($"{op}: label {value} in row {row} is not a class index in [0, {classes}).");
        return label;
    }

    /// <summary>End of the channel range [firstChannel, firstChannel + channelCount); a negative count means "to the last channel".</summary>
    public static int ChannelEnd(int channels, int firstChannel, int channelCount)
    {
        int end = channelCount < 0 ? channels : firstChannel + channelCount;
        if (firstChannel < 0 || end > channels || end < firstChannel)
            throw new ArgumentOutOfRangeException(nameof(channelCount), $"Channel range [{firstChannel}, {end}) is not within [0, {channels}).");
        return end;
    }
}
