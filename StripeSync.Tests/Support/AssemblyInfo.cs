// App hosts share process-wide statics (Hangfire's GlobalConfiguration, JobStorage.Current), so test
// classes that start one must not run side by side; on a 2-core machine serial costs little.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
