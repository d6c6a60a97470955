namespace ParallelNet.Tensors.OpenCL.Tests;

[Collection(OpenClCollection.Name)]
public class DeviceTests(OpenClFixture fixture)
{
    [OpenClFact]
    public void Discover_ListsTheDeviceTheFixtureUses()
    {
        var devices = OpenClDevices.Discover();
        Assert.NotEmpty(devices);
        Assert.Equal(Enumerable.Range(0, devices.Count), devices.Select(d => d.Index));
        Assert.Equal(devices[0].Name, fixture.Device.Device.Name);
        Assert.All(devices, d => Assert.True(d.ComputeUnits > 0 && d.GlobalMemoryBytes > 0, d.ToString()));
    }

    [OpenClFact]
    public void Allocate_IsZeroFilled_AndUploadDownloadRoundTrips()
    {
        var gpu = fixture.Device;
        var t = gpu.Allocate(new Shape(3, 5));
        Assert.IsType<DeviceStorage>(t.Storage);
        var read = new float[15];
        gpu.Download(t, read);
        Assert.All(read, v => Assert.Equal(0f, v));
        var data = BackendComparison.Uniform(15, 1);
        gpu.Upload(data, t);
        gpu.Download(t, read);
        Assert.Equal(data, read);
    }

    [OpenClFact]
    public void Views_ReadAndWriteTheirWindowOfTheBuffer()
    {
        var gpu = fixture.Device;
        var flat = gpu.Allocate(new Shape(20));
        var row = flat.View(7, new Shape(2, 3));
        gpu.Upload([1, 2, 3, 4, 5, 6], row);
        gpu.Fill(flat.View(0, new Shape(2)), 9f);
        var target = gpu.Allocate(new Shape(6));
        gpu.Copy(row, target);
        gpu.Add(row, target, flat.View(13, new Shape(6)));
        var all = new float[20];
        gpu.Download(flat, all);
        Assert.Equal([9, 9, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 2, 4, 6, 8, 10, 12, 0], all);
        var rows = new float[3];
        gpu.Download(row.Rows(1, 1), rows);
        Assert.Equal([4, 5, 6], rows);
    }

    [OpenClFact]
    public void EmptyTensors_AreAllowed()
    {
        var gpu = fixture.Device;
        var empty = gpu.Allocate(new Shape(0, 4));
        gpu.Fill(empty, 1f);
        gpu.Scale(empty, 2f);
        Assert.Equal(0, gpu.SumOfSquares(empty));
        Assert.False(gpu.HasNonFinite(empty));
    }

    [OpenClFact]
    public void HostTensors_AreRejectedWithAMessageThatSaysWhatToDo()
    {
        var gpu = fixture.Device;
        var e = Assert.Throws<ArgumentException>(() => gpu.Scale(Tensor.Zeros(4), 2f));
        Assert.Contains("HostStorage", e.Message);
        Assert.Contains("allocate it with this backend", e.Message);
    }

    [OpenClFact]
    public void MismatchedLengths_NameTheOperationAndOperands()
    {
        var gpu = fixture.Device;
        var e = Assert.Throws<ArgumentException>(() => gpu.Add(gpu.Allocate(new Shape(3)), gpu.Allocate(new Shape(4)), gpu.Allocate(new Shape(3))));
        Assert.Equal("Add: a has 3 elements but b has 4; they must have the same length.", e.Message);
    }

    [OpenClFact]
    public void Name_IdentifiesTheDevice() => Assert.StartsWith("opencl:0(", fixture.Device.Name);
}
