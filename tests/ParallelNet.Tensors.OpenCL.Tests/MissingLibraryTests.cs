namespace ParallelNet.Tensors.OpenCL.Tests;

public class MissingLibraryTests
{
    [Fact]
    public void AMissingClBlast_IsOneLineNamingTheLibraryAndTheFix()
    {
        var error = Assert.Throws<OpenClException>(() =>
            OpenClCompute.RequireNativeLibrary("libclblast-not-installed.so.1", "CLBlast", "Debian: apt-get install libclblast1"));
        Assert.Equal("CLBlast is not available: libclblast-not-installed.so.1 was not found. Install it (Debian: apt-get install libclblast1).", error.Message);
    }

    [Fact]
    public void AnInstalledLibrary_PassesTheCheck()
    {
        // libc is on every Linux machine the tests run on: the check must not refuse a library that loads.
        OpenClCompute.RequireNativeLibrary("libc.so.6", "libc", "it is part of the system");
    }
}
