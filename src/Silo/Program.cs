return await Federation.Silo.Cli.FederationCommandLine.RunAsync(args);
