using System.CommandLine;
using ParallelNet.Tensors.OpenCL;

namespace ParallelNet.Cli.Commands;

/// <summary><c>parallelnet devices</c>: the values <c>--device</c> accepts on this machine.</summary>
internal static class DevicesCommand
{
    public static Command Create()
    {
        var command = new Command("devices", $"List the compute devices (--device {ComputeDevices.Usage}).");
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var list = ComputeDevices.List();
            foreach (var device in list.Devices) output.WriteLine($"{device.Id,-10} {device.Description}");
            if (list.OpenClUnavailableReason is { } reason) output.WriteLine($"OpenCL unavailable: {reason}");
            output.WriteLine("auto       the first OpenCL GPU, else cpu");
            return ExitCodes.Success;
        });
        return command;
    }
}
