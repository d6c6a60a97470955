using ParallelNet.Data;
using ParallelNet.NN;

namespace ParallelNet.Training;

/// <summary>Mean loss and accuracy of a model over a dataset in eval mode, every sample counted exactly once, in index order.</summary>
public static class Evaluation
{
    public const int ChunkSize = 500;

    public static (double Loss, double Accuracy) Run(Model model, Dataset? dataset)
    {
        if (dataset is null || dataset.Count == 0) return (double.NaN, double.NaN);
        int sampleSize = dataset.SampleShape.Size;
        var inputs = new float[ChunkSize * sampleSize];
        var targets = new float[ChunkSize * dataset.TargetSize];
        var indices = new int[ChunkSize];
        double lossSum = 0;
        long correct = 0;
        for (int start = 0; start < dataset.Count; start += ChunkSize)
        {
            int count = Math.Min(ChunkSize, dataset.Count - start);
            for (int i = 0; i < count; i++) indices[i] = start + i;
            dataset.CopyBatch(indices.AsSpan(0, count), inputs.AsSpan(0, count * sampleSize), targets.AsSpan(0, count * dataset.TargetSize));
            var result = model.Evaluate(inputs.AsSpan(0, count * sampleSize), targets.AsSpan(0, count * dataset.TargetSize), count);
            lossSum += result.LossSum;
            correct += result.Correct;
        }
        return (lossSum / dataset.Count, dataset.Classes > 0 ? (double)correct / dataset.Count : double.NaN);
    }
}
