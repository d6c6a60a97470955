namespace ParallelNet.Data.Tests.Fixtures;

/// <summary>The real MNIST files shared on the build machine; tests that need them skip elsewhere.</summary>
public static class RealMnist
{
    public const string Directory = "/work/shared/data/mnist";

    public static bool Present => MnistFiles.Find(Directory) is not null;
}

/// <summary>A fact that runs only where the real MNIST files are present, and says so when skipped.</summary>
public sealed class RealMnistFactAttribute : FactAttribute
{
    public RealMnistFactAttribute()
    {
        if (!RealMnist.Present)
            Skip = $"The real MNIST files are not in {RealMnist.Directory}; copy the four IDX files there to run this test.";
    }
}
