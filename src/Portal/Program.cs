using Federation.Portal.Extensions;

var app = PortalApplication.Build(args);
app.Run();
