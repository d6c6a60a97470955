using Google.Protobuf;
using Microsoft.Data.Sqlite;
using ParallelNet.Jobs.V1;

namespace ParallelNet.Jobs.Internal;

/// <summary>
/// The durable job table (SQLite): each job is stored as its serialized <see cref="Job"/> message with its
/// state and submission order beside it for queries. Every write is a committed transaction, so a killed
/// server loses at most the write in flight. One connection, serialized by a lock: the job service writes rarely.
/// </summary>
internal sealed class JobStore : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly Lock _gate = new();

    public JobStore(string databasePath)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(databasePath))!);
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, Pooling = false }.ToString());
        try
        {
            _connection.Open();
            Execute("PRAGMA journal_mode=WAL;");
            Execute("PRAGMA synchronous=FULL;");
            Execute("""
                CREATE TABLE IF NOT EXISTS jobs (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    state INTEGER NOT NULL,
                    job BLOB NOT NULL);
                CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, seq);
                """);
        }
        catch (SqliteException e)
        {
            _connection.Dispose();
            throw new InvalidOperationException($"Cannot open the job database '{databasePath}': {e.Message}", e);
        }
    }

    /// <summary>Adds a job and returns its submission order.</summary>
    public long Insert(Job job)
    {
        lock (_gate)
        {
            using var command = Command("INSERT INTO jobs (id, state, job) VALUES ($id, $state, $job) RETURNING seq;", job);
            return (long)command.ExecuteScalar()!;
        }
    }

    public void Update(Job job)
    {
        lock (_gate)
        {
            using var command = Command("UPDATE jobs SET state = $state, job = $job WHERE id = $id;", job);
            if (command.ExecuteNonQuery() != 1) throw new InvalidOperationException($"Job {job.Id} is not in the store.");
        }
    }

    public Job? Get(string id)
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT job FROM jobs WHERE id = $id;";
            command.Parameters.AddWithValue("$id", id);
            return command.ExecuteScalar() is byte[] bytes ? Job.Parser.ParseFrom(bytes) : null;
        }
    }

    /// <summary>Jobs in the given states (all when empty), in submission order, with their sequence numbers.</summary>
    public List<(long Seq, Job Job)> InStates(IReadOnlyCollection<JobState> states, bool newestFirst = false, long? before = null, int limit = int.MaxValue)
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            var where = new List<string>();
            if (states.Count > 0) where.Add($"state IN ({string.Join(",", states.Select(s => ((int)s).ToString(System.Globalization.CultureInfo.InvariantCulture)))})");
            if (before is { } b)
            {
                where.Add("seq < $before");
                command.Parameters.AddWithValue("$before", b);
            }
            command.CommandText = "SELECT seq, job FROM jobs" + (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "")
                + $" ORDER BY seq {(newestFirst ? "DESC" : "ASC")} LIMIT $limit;";
            command.Parameters.AddWithValue("$limit", limit);
            var result = new List<(long, Job)>();
            using var reader = command.ExecuteReader();
            while (reader.Read()) result.Add((reader.GetInt64(0), Job.Parser.ParseFrom((byte[])reader[1])));
            return result;
        }
    }

    private SqliteCommand Command(string sql, Job job)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$id", job.Id);
        command.Parameters.AddWithValue("$state", (int)job.State);
        command.Parameters.AddWithValue("$job", job.ToByteArray());
        return command;
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public void Dispose()
    {
        lock (_gate) _connection.Dispose();
    }
}
