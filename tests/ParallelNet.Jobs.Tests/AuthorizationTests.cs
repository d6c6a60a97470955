using ParallelNet.Rpc;
using ParallelNet.Training.Jobs;

namespace ParallelNet.Jobs.Tests;

/// <summary>Bearer tokens: none or wrong is UNAUTHENTICATED, read-only cannot change jobs, no tokens only on loopback.</summary>
public sealed class AuthorizationTests
{
    private const string Admin = "admin-token-0123";
    private const string Reader = "reader-token-4567";

    private static Task<TestJobServer> StartWithTokens() => TestJobServer.StartAsync(new GatedJobRunner(), s =>
    {
        s.Tokens.Add(new JobToken(Admin, JobTokenRole.Admin));
        s.Tokens.Add(new JobToken(Reader, JobTokenRole.ReadOnly));
    });

    [Fact]
    public async Task Missing_or_wrong_tokens_are_unauthenticated()
    {
        await using var server = await StartWithTokens();
        using var anonymous = server.Client();
        using var wrong = server.Client("not-a-valid-token");
        Assert.Equal(StatusCode.Unauthenticated, await JobTestExtensions.StatusOf(() => anonymous.ListAsync()));
        Assert.Equal(StatusCode.Unauthenticated, await JobTestExtensions.StatusOf(() => anonymous.SubmitAsync(JobTestExtensions.TinySpirals())));
        Assert.Equal(StatusCode.Unauthenticated, await JobTestExtensions.StatusOf(() => wrong.ListAsync()));
        Assert.Equal(StatusCode.Unauthenticated, await JobTestExtensions.StatusOf(() => wrong.WatchToEndAsync("job-000000000000")));
    }

    [Fact]
    public async Task A_read_only_token_reads_but_cannot_submit_or_cancel()
    {
        await using var server = await StartWithTokens();
        using var admin = server.Client(Admin);
        using var reader = server.Client(Reader);
        var job = await admin.SubmitAsync(JobTestExtensions.TinySpirals());

        Assert.Equal(job.Id, (await reader.GetAsync(job.Id)).Id);
        Assert.Single((await reader.ListAsync()).Jobs);
        Assert.Equal(StatusCode.PermissionDenied, await JobTestExtensions.StatusOf(() => reader.SubmitAsync(JobTestExtensions.TinySpirals())));
        Assert.Equal(StatusCode.PermissionDenied, await JobTestExtensions.StatusOf(() => reader.CancelAsync(job.Id)));
        await admin.CancelAsync(job.Id);
    }

    [Fact]
    public async Task Without_tokens_the_service_refuses_to_listen_beyond_loopback()
    {
        var settings = new JobServerSettings { Host = "0.0.0.0", Port = 0, StateDirectory = Directory.CreateTempSubdirectory("pn-jobs-").FullName };
        try
        {
            var error = await Assert.ThrowsAsync<ArgumentException>(() => JobServer.StartAsync(settings, new InProcessJobRunner()));
            Assert.Contains("without authentication", error.Message);

            await using var host = JobServiceHost.Create(settings, new InProcessJobRunner());
            Assert.Throws<ArgumentException>(() => host.AddTo(new GrpcServerOptions { Host = "10.1.2.3" }));
            var loopback = new GrpcServerOptions { Host = "::1" };
            host.AddTo(loopback);
            Assert.Single(loopback.Services);
        }
        finally
        {
            Directory.Delete(settings.StateDirectory, recursive: true);
        }
    }

    [Fact]
    public void Server_config_files_read_tokens_and_reject_unknown_keys()
    {
        Environment.SetEnvironmentVariable("PN_TEST_JOB_TOKEN", "from-the-environment");
        var settings = JobServerSettingsFile.Parse("host: 0.0.0.0\nport: 6000\nstate_dir: state\nmax_concurrent_jobs: 2\ntokens:\n  - { token_env: PN_TEST_JOB_TOKEN, role: admin }\n  - { token: reader-token-4567, role: read }\n", "/srv");
        Assert.Equal(6000, settings.Port);
        Assert.Equal("/srv/state", settings.StateDirectory);
        Assert.Equal(2, settings.MaxConcurrentJobs);
        Assert.Equal([new JobToken("from-the-environment", JobTokenRole.Admin), new JobToken("reader-token-4567", JobTokenRole.ReadOnly)], settings.Tokens);
        settings.Validate("0.0.0.0");
        Assert.Contains("prot", Assert.Throws<ArgumentException>(() => JobServerSettingsFile.Parse("prot: 5", "/")).Message);
        Assert.Contains("role", Assert.Throws<ArgumentException>(() => JobServerSettingsFile.Parse("tokens:\n  - { token: abcdefghij, role: root }\n", "/")).Message);
    }

    [Fact]
    public async Task The_server_runs_on_our_own_HTTP2_server_by_default_and_on_Kestrel_when_the_config_says_so()
    {
        Assert.Equal(GrpcServerTransport.Http2, JobServerSettingsFile.Parse("port: 6000", "/").ServerTransport);
        Assert.Contains("server_transport", Assert.Throws<ArgumentException>(() => JobServerSettingsFile.Parse("server_transport: nginx", "/")).Message);
        var kestrel = JobServerSettingsFile.Parse("server_transport: Kestrel", "/");
        Assert.Equal(GrpcServerTransport.Kestrel, kestrel.ServerTransport);

        await using var server = await TestJobServer.StartAsync(new GatedJobRunner(), s => s.ServerTransport = kestrel.ServerTransport);
        using var client = server.Client();
        var job = await client.SubmitAsync(JobTestExtensions.TinySpirals());
        Assert.Contains((await client.ListAsync()).Jobs, j => j.Id == job.Id);
        await client.CancelAsync(job.Id);
    }
}
