# syntax=docker/dockerfile:1
# Multi-stage build of the StripeSync web app.
#   docker build -t stripesync .
#   docker run -p 8080:8080 -v stripesync-data:/app/data stripesync                      (SQLite, embedded)
#   docker run -p 8080:8080 -e Database__Provider=Postgres \
#     -e Database__ConnectionString="Host=db;Database=stripesync;Username=stripesync;Password=…" stripesync
#   … and workers from the same image: docker run … stripesync --role worker
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# The whole tree (less .dockerignore): the web app references more projects as features arrive.
COPY . .
RUN dotnet publish StripeSync.Web/StripeSync.Web.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
# The embedded SQLite database and nothing else lives in /app/data; mount a volume there.
RUN mkdir -p /app/data && chown app:app /app/data
VOLUME /app/data
# The non-root user that the .NET images ship.
USER app
ENV ASPNETCORE_HTTP_PORTS=8080 \
    Database__Provider=Sqlite \
    Database__ConnectionString="Data Source=/app/data/stripesync.db"
EXPOSE 8080
ENTRYPOINT ["dotnet", "StripeSync.Web.dll"]
