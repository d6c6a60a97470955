using ParallelNet.Data;
using ParallelNet.NN;
using ParallelNet.NN.Optimizers;
using ParallelNet.NN.Word2Vec;
using ParallelNet.Tensors;
using ParallelNet.Tensors.Cpu;
using ParallelNet.Training.Actors;

namespace ParallelNet.Training.Word2Vec;

/// <summary>
/// word2vec through the data-parallel step: the examples of <see cref="Word2VecExamples"/> in mini-batches, plain
/// SGD on the summed gradient divided by the batch, the rate falling to 1e-4 of its start along a cosine. The
/// embedding tables travel between workers and parameter server as the rows a block touched, and the weights
/// are the same bits for any number of workers.
/// </summary>
public sealed record Word2VecJob(Word2VecExamples Examples, Word2VecOptions Options, int BatchSize = 128, int VirtualShards = 4)
{
    /// <summary>
    /// The SGD rate on the batch mean: the per-example rate of the original tool times the batch, so that each
    /// example moves its rows by what it would have moved them alone.
    /// </summary>
    public float LearningRate => Options.StartingLearningRate * BatchSize;

    public TrainingOptions TrainingOptions => new()
    {
        Model = Examples.Spec,
        Optimizer = new OptimizerOptions(OptimizerKind.Sgd, LearningRate, Schedule: new LearningRateSchedule.Cosine(1e-4f)),
        Epochs = Options.Epochs,
        BatchSize = BatchSize,
        VirtualShards = VirtualShards,
        Seed = Options.Seed,
    };

    /// <summary>The examples as a data set; there is no test split (word vectors are judged by their neighbours).</summary>
    public DataSplit Data
    {
        get
        {
            var train = new Dataset("word2vec", new Shape(Examples.Width), Examples.Ids, Examples.Targets, 1 + Examples.Negatives, 0);
            return new DataSplit(train, train.Subset([], "none"), Normalization.Identity);
        }
    }

    /// <summary>Trains on in-process worker actors and returns the vectors with the job's summary.</summary>
    public (Word2VecModel Model, TrainingSummary Summary) Run(ActorTrainerSettings settings, ITrainingObserver? observer = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (Examples.Count == 0) throw new TrainingException("The corpus gave no training examples (every sentence is shorter than two kept words); use a larger corpus or a lower --min-count.");
        // The final weights come back through the job's own checkpoint, as from any training job.
        string path = Path.Combine(Path.GetTempPath(), $"parallelnet-word2vec-{Guid.NewGuid():N}.safetensors");
        try
        {
            var summary = new ActorTrainer(TrainingOptions, Data, settings, observer).Run(cancellation, new CheckpointPolicy(path));
            var checkpoint = TrainingCheckpoint.Load(path);
            var model = NN.Model.Create(Examples.Spec, new CpuCompute(1), 1);
            checkpoint.ApplyTo(model, null);
            var weights = new float[model.Layout.TotalSize];
            model.Compute.Download(model.Parameters, weights);
            return (Word2VecExamples.ToModel(model.Layout, weights), summary);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
