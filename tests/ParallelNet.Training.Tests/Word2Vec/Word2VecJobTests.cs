using ParallelNet.NN.Word2Vec;
using ParallelNet.Training.Actors;
using ParallelNet.Training.Word2Vec;
using static ParallelNet.Testing.PlantedCorpus;

namespace ParallelNet.Training.Tests.Word2Vec;

/// <summary>word2vec on the actors: the same vectors for 1 and 3 workers, and the planted categories recovered.</summary>
public sealed class Word2VecJobTests
{
    [Theory]
    [InlineData(Word2VecArchitecture.SkipGram)]
    [InlineData(Word2VecArchitecture.Cbow)]
    public void OneAndThreeWorkersGiveTheSameVectorsAsThePlainLoop(Word2VecArchitecture architecture)
    {
        var (sentences, counts, _) = Generate(150, seed: 4);
        var options = new Word2VecOptions { Architecture = architecture, Dimension = 12, Window = 2, Epochs = 2, Seed = 5 };
        var job = new Word2VecJob(Word2VecExamples.Build(sentences, counts, options), options, BatchSize: 64, VirtualShards: 4);
        var reference = new LocalTrainer(job.TrainingOptions, job.Data, new Tensors.Cpu.CpuCompute(1)).Run();
        foreach (int workers in new[] { 1, 3 })
        {
            var (model, summary) = job.Run(new ActorTrainerSettings { Workers = workers, ThreadsPerWorker = 1 });
            Assert.Equal(reference.WeightsSha256, summary.WeightsSha256);
            Assert.Contains(model.InputVectors, v => v != 0f);
        }
    }

    [Fact]
    public void ThreeWorkersRecoverThePlantedCategories()
    {
        var (sentences, counts, categoryWords) = Generate(4000, seed: 3);
        // Twice the sequential test's epochs: the examples (subsampling, windows, noise) are drawn once, not per epoch.
        var options = new Word2VecOptions { Dimension = 24, Window = 3, Epochs = 8, Seed = 7 };
        var job = new Word2VecJob(Word2VecExamples.Build(sentences, counts, options), options, BatchSize: 128, VirtualShards: 4);
        var (model, _) = job.Run(new ActorTrainerSettings { Workers = 3, ThreadsPerWorker = 1 });
        double fraction = SameCategoryFraction(categoryWords, id => model.Nearest(id, 5).Select(n => n.Id));
        Assert.True(fraction >= 0.9, $"only {fraction:P1} of the 5 nearest neighbours share the word's category (need >= 90 %).");
    }
}
