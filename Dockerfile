# The portal with its co-hosted silos (the embedded default) in one container.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/Portal/Portal.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
COPY samples /app/samples
ENV ASPNETCORE_URLS=http://0.0.0.0:8080 \
    Federation__DataDirectory=/data \
    Federation__SampleFederation=/app/samples/fed-heart-disease/federation.json \
    Federation__SampleJob=/app/samples/fed-heart-disease/job.json
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["dotnet", "Federation.Portal.dll"]
