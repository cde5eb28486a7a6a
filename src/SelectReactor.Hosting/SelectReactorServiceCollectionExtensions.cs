using System;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SelectReactor.Hosting.Internal;
using SelectReactor.Net;

namespace SelectReactor.Hosting;

/// <summary>Registers a <see cref="Reactor"/> and its TCP servers with the .NET generic host.</summary>
/// <remarks>Call these while building the host, on the thread that builds it.</remarks>
public static class SelectReactorServiceCollectionExtensions
{
    /// <summary>
    /// Registers a <see cref="Reactor"/> as a singleton that runs on a dedicated thread from the host's start to its
    /// stop, and a <see cref="TcpServerRegistry"/>. Calling it again only adds <paramref name="configure"/>.
    /// </summary>
    /// <remarks>
    /// <para>
    /// The reactor logs through the host's <see cref="ILoggerFactory"/> and, when the host has one registered, runs
    /// its timers on the host's <see cref="TimeProvider"/>. Resolve it to <see cref="Reactor.Post(Action)"/> work to
    /// it or to start servers and connectors of your own; do not call <see cref="Reactor.Run"/> or
    /// <see cref="Reactor.Dispose"/> yourself, the host does.
    /// </para>
    /// <para>
    /// On host shutdown every server added with <see cref="AddTcpServer{THandler}"/> stops accepting and closes its
    /// connections gracefully; when the host's shutdown time runs out first, the connections still closing are
    /// reset. Then the loop stops, its thread is joined and the reactor disposed. If the loop fails (select keeps
    /// failing with no socket to blame) the failure is logged as critical and the host is asked to stop.
    /// </para>
    /// </remarks>
    /// <param name="services">The host's services.</param>
    /// <param name="configure">Sets <see cref="SelectReactorHostOptions"/>, or <see langword="null"/> for the defaults. They are validated when the host starts.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddSelectReactor(this IServiceCollection services, Action<SelectReactorHostOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        OptionsBuilder<SelectReactorHostOptions> options = services.AddOptions<SelectReactorHostOptions>().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SelectReactorHostOptions>, SelectReactorHostOptionsValidator>());
        services.TryAddSingleton(static provider => CreateReactor(provider));
        services.TryAddSingleton(static _ => new TcpServerRegistry());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ReactorHostedService>(static provider => new ReactorHostedService(
            provider.GetRequiredService<Reactor>(),
            provider,
            provider.GetServices<TcpServerSpec>(),
            provider.GetRequiredService<TcpServerRegistry>(),
            provider.GetService<IHostApplicationLifetime>(),
            provider.GetService<ILoggerFactory>()?.CreateLogger("SelectReactor.Hosting") ?? NullLogger.Instance)));
        return services;
    }

    /// <summary>
    /// Adds a <see cref="TcpServer"/> that the host starts on the hosted reactor (registering the reactor as
    /// <see cref="AddSelectReactor"/> does, if that was not called). Each accepted connection gets a new
    /// <typeparamref name="THandler"/> made by <see cref="ActivatorUtilities"/>, so its constructor may take services.
    /// </summary>
    /// <remarks>
    /// <para>
    /// The server binds while the host starts, so an end point in use fails the start. Find the bound end point (the
    /// real port when 0 was asked for) through <see cref="TcpServerRegistry"/> once the host has started.
    /// </para>
    /// <para>
    /// Handlers are made on the reactor thread from the root service provider, so they should take singleton (or
    /// non-disposable transient) services: a scoped service cannot be resolved there, and the container keeps every
    /// disposable transient it made until the host is disposed. A constructor that throws costs only that connection
    /// (it is dropped and the failure logged).
    /// </para>
    /// </remarks>
    /// <typeparam name="THandler">The connection handler; one instance per connection.</typeparam>
    /// <param name="services">The host's services.</param>
    /// <param name="endPoint">An <see cref="IPEndPoint"/> (port 0 picks a free port) or a <see cref="UnixDomainSocketEndPoint"/>.</param>
    /// <param name="configure">Sets the server's <see cref="TcpServerOptions"/>, called here, at once; <see langword="null"/> takes the defaults.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="endPoint"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="endPoint"/> is neither an <see cref="IPEndPoint"/> nor a <see cref="UnixDomainSocketEndPoint"/>.</exception>
    public static IServiceCollection AddTcpServer<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler>(
        this IServiceCollection services,
        EndPoint endPoint,
        Action<TcpServerOptions>? configure = null)
        where THandler : ConnectionHandler
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(endPoint);
        if (endPoint is not (IPEndPoint or UnixDomainSocketEndPoint))
        {
            throw new ArgumentException("Only IPEndPoint and UnixDomainSocketEndPoint can be listened on.", nameof(endPoint));
        }

        var options = new TcpServerOptions();
        configure?.Invoke(options);
        services.AddSelectReactor();
        services.AddSingleton(new TcpServerSpec(endPoint, typeof(THandler), options, static provider =>
        {
            ObjectFactory<THandler> create = ActivatorUtilities.CreateFactory<THandler>(Type.EmptyTypes);
            return () => create(provider, null);
        }));
        return services;
    }

    private static Reactor CreateReactor(IServiceProvider provider)
    {
        SelectReactorHostOptions options = provider.GetRequiredService<IOptions<SelectReactorHostOptions>>().Value;
        return new Reactor(new ReactorOptions
        {
            Name = options.Name,
            MaxSelectTimeout = options.MaxSelectTimeout,
            LoggerFactory = provider.GetService<ILoggerFactory>(),
            TimeProvider = provider.GetService<TimeProvider>() ?? TimeProvider.System,
        });
    }
}
