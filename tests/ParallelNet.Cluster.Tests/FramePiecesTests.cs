using ParallelNet.Cluster.Internal;

namespace ParallelNet.Cluster.Tests;

public sealed class FramePiecesTests
{
    private static byte[] Bytes(int length, int seed) => [.. Enumerable.Range(0, length).Select(i => (byte)(i * 7 + seed))];

    [Fact]
    public void A_payload_that_fits_goes_in_one_frame_of_views_of_its_segments()
    {
        byte[] header = Bytes(40, 1), tensor = Bytes(5000, 2), trailer = Bytes(12, 3);
        List<List<ReadOnlyMemory<byte>>> frames = Association.FramePieces([header, tensor, trailer], 6000);

        List<ReadOnlyMemory<byte>> only = Assert.Single(frames);
        Assert.Equal(3, only.Count);
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(only[1], out ArraySegment<byte> view));
        Assert.Same(tensor, view.Array);
    }

    [Fact]
    public void A_longer_payload_is_cut_into_full_frames_in_order_and_an_empty_one_is_one_empty_frame()
    {
        ReadOnlyMemory<byte>[] segments = [Bytes(100, 1), Bytes(3000, 2), Bytes(1, 3), Bytes(2500, 4)];
        const int frameBytes = 1000;
        List<List<ReadOnlyMemory<byte>>> frames = Association.FramePieces(segments, frameBytes);

        // Each piece may cost up to 16 bytes of field overhead on the wire; a frame never exceeds its budget with it.
        Assert.All(frames, frame => Assert.True(frame.Sum(p => p.Length + 16) <= frameBytes));
        Assert.All(frames[..^1], frame => Assert.True(frame.Sum(p => p.Length + 16) >= frameBytes - 16));
        Assert.Equal(segments.SelectMany(s => s.ToArray()).ToArray(), frames.SelectMany(f => f).SelectMany(p => p.ToArray()).ToArray());

        Assert.Empty(Assert.Single(Association.FramePieces([], frameBytes)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Association.FramePieces(segments, 16));
    }
}
