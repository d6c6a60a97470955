using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ParallelNet.Cli.Bench;

/// <summary>
/// What the kernel alone charges for a cluster step's traffic: the coordinator sends a tensor of the model's
/// size to each worker and gets one back, over plain loopback TCP sockets with no protocol and no copy in
/// user space. The CPU this takes is a floor under any transport a cluster step could use, so the benchmark
/// can tell how close to single-process speed the design can get on this machine at all.
/// </summary>
internal static class LoopbackTcpFloor
{
    private const int Rounds = 3;

    /// <summary>CPU seconds (user + system, both ends) and wall seconds one step's exchange takes, best of a few rounds.</summary>
    public static (double CpuSeconds, double WallSeconds) MeasureStep(int workers, long tensorBytes, int steps = 40)
    {
        if (workers < 1 || tensorBytes < 1 || steps < 1) throw new ArgumentOutOfRangeException(nameof(workers), "workers, tensor bytes and steps must be positive.");
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(workers);
        var coordinatorEnds = new Socket[workers];
        var workerEnds = new Socket[workers];
        try
        {
            for (int i = 0; i < workers; i++)
            {
                workerEnds[i] = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                workerEnds[i].Connect(listener.LocalEndPoint!);
                coordinatorEnds[i] = listener.Accept();
                coordinatorEnds[i].NoDelay = true;
            }
            var echoes = workerEnds.Select(s => new Thread(() => Echo(s, tensorBytes, Rounds * steps + 1)) { IsBackground = true, Name = "tcp-floor-worker" }).ToArray();
            foreach (var t in echoes) t.Start();

            var tensor = new byte[tensorBytes];
            var received = new byte[tensorBytes];
            Exchange(coordinatorEnds, tensor, received); // warm-up: socket buffers grow, pages fault in
            // /proc counts CPU in 10 ms ticks, so each round times many steps and the best round's mean counts.
            double bestCpu = double.MaxValue, bestWall = double.MaxValue;
            var process = Process.GetCurrentProcess();
            for (int round = 0; round < Rounds; round++)
            {
                process.Refresh();
                var cpu = process.TotalProcessorTime;
                long start = Stopwatch.GetTimestamp();
                for (int step = 0; step < steps; step++) Exchange(coordinatorEnds, tensor, received);
                bestWall = Math.Min(bestWall, Stopwatch.GetElapsedTime(start).TotalSeconds / steps);
                process.Refresh();
                bestCpu = Math.Min(bestCpu, (process.TotalProcessorTime - cpu).TotalSeconds / steps);
            }
            foreach (var t in echoes) t.Join();
            return (bestCpu, bestWall);
        }
        finally
        {
            foreach (var s in coordinatorEnds.Concat(workerEnds)) s?.Dispose();
        }
    }

    // The coordinator's side of a step: weights out to every worker, then every gradient back, as a parameter server does.
    private static void Exchange(Socket[] workers, byte[] tensor, byte[] received)
    {
        foreach (var s in workers) SendAll(s, tensor);
        foreach (var s in workers) ReceiveAll(s, received);
    }

    private static void Echo(Socket socket, long tensorBytes, int steps)
    {
        var buffer = new byte[tensorBytes];
        for (int i = 0; i < steps; i++)
        {
            ReceiveAll(socket, buffer);
            SendAll(socket, buffer);
        }
    }

    private static void SendAll(Socket socket, byte[] data)
    {
        for (int sent = 0; sent < data.Length;) sent += socket.Send(data, sent, data.Length - sent, SocketFlags.None);
    }

    private static void ReceiveAll(Socket socket, byte[] data)
    {
        for (int got = 0; got < data.Length;)
        {
            int n = socket.Receive(data, got, data.Length - got, SocketFlags.None);
            if (n == 0) throw new IOException("A loopback socket of the TCP floor probe closed early.");
            got += n;
        }
    }
}
