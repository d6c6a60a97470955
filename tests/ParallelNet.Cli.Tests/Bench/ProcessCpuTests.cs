using ParallelNet.Cli.Bench;

namespace ParallelNet.Cli.Tests.Bench;

public class ProcessCpuTests
{
    [Fact]
    public void UserAndSystemTicksAddUpToSecondsEvenWhenTheCommandNameHoldsSpacesAndParentheses()
    {
        // Fields 14 (utime) and 15 (stime) are 250 and 30 ticks of 10 ms.
        const string stat = "4242 (a (weird) name) S 1 4242 4242 0 -1 4194560 5000 0 12 0 250 30 0 0 20 0 7 0 100 200000 300 18446744073709551615";

        Assert.Equal(2.8, ProcessCpu.Parse(stat), 9);
    }

    [Fact]
    public void ATruncatedLineIsAFormatError()
    {
        Assert.Throws<FormatException>(() => ProcessCpu.Parse("4242 (name) S 1 2 3"));
        Assert.Throws<FormatException>(() => ProcessCpu.Parse("no command name"));
    }

    [Fact]
    public void ThisProcessHasUsedSomeCpuAndAMissingOneNone()
    {
        Assert.True(ProcessCpu.Seconds(Environment.ProcessId) > 0);
        Assert.Null(ProcessCpu.Seconds(int.MaxValue));
    }
}
