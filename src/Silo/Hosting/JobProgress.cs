using Federation.Contracts.Jobs;

namespace Federation.Silo.Hosting;

public static class JobProgress
{
    /// <summary>Polls a job until it is completed or failed, telling <paramref name="onRound"/> about each new round once.</summary>
    public static async Task<JobStatus> WaitAsync(ITrainingJobGrain job, JobStatus status, Func<RoundSummary, Task>? onRound = null,
        TimeSpan? poll = null, CancellationToken cancellationToken = default)
    {
        int reported = 0;
        while (true)
        {
            if (onRound is not null)
                foreach (var round in status.Rounds.Skip(reported))
                    await onRound(round);
            reported = status.Rounds.Count;
            if (status.Phase is JobPhase.Completed or JobPhase.Failed)
                return status;
            await Task.Delay(poll ?? TimeSpan.FromMilliseconds(250), cancellationToken);
            status = await job.GetStatus();
        }
    }
}
