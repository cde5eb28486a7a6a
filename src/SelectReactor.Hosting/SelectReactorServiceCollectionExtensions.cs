using System;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SelectReactor.Net;

namespace SelectReactor.Hosting;

/// <summary>Registers a <see cref="Reactor"/> and its TCP servers with the .NET generic host.</summary>
/// <remarks>Call these while building the host, on the thread that builds it.</remarks>
[SuppressMessage("ApiDesign", "RS0026", Justification = "The trailing optional configure delegate is the idiom of IServiceCollection extensions; the overloads differ in required parameters and none has shipped.")]
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
    /// On host shutdown every server added with <c>AddTcpServer</c> stops accepting and closes its
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
        services.TryAddSingleton(static provider => CreateReactors(provider));
        services.TryAddSingleton(static provider => provider.GetRequiredService<HostedReactors>().Primary);
        services.TryAddSingleton(static provider => provider.GetRequiredService<HostedReactors>().Group ?? throw new InvalidOperationException(
            "The host runs one Reactor, not a ReactorGroup: resolve Reactor, or set SelectReactorHostOptions.ReactorCount above 1 (or to 0 for one per processor)."));
        services.TryAddSingleton(static _ => new TcpServerRegistry());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ReactorHostedService>(static provider => new ReactorHostedService(
            provider.GetRequiredService<HostedReactors>(),
            provider,
            provider.GetServices<TcpServerSpec>(),
            provider.GetRequiredService<TcpServerRegistry>(),
            provider.GetService<IHostApplicationLifetime>(),
            provider.GetService<ILoggerFactory>()?.CreateLogger("SelectReactor.Hosting") ?? NullLogger.Instance)));
        return services;
    }

    /// <summary>
    /// Same as <see cref="AddSelectReactor(IServiceCollection, Action{SelectReactorHostOptions}?)"/>, with the options
    /// read from <paramref name="configuration"/> when the host starts: <c>Name</c>, <c>MaxSelectTimeout</c>
    /// ("00:00:05" or "Infinite"), <c>MaxColdSocketDelay</c> ("00:00:00.040") and <c>ReactorCount</c>. A <c>Servers</c> subsection is allowed for
    /// <see cref="AddTcpServer{THandler}(IServiceCollection, string, IConfiguration, Action{TcpServerOptions}?)"/>.
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configuration">The section, for example <c>builder.Configuration.GetSection("SelectReactor")</c>.</param>
    /// <param name="configure">Applied after the configuration, or <see langword="null"/>.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="configuration"/> is <see langword="null"/>.</exception>
    /// <remarks>A value that cannot be read, or an unknown key, fails the host's start with an
    /// <see cref="InvalidOperationException"/> that names the key and the value.</remarks>
    public static IServiceCollection AddSelectReactor(this IServiceCollection services, IConfiguration configuration, Action<SelectReactorHostOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddSelectReactor(options => HostingConfiguration.Bind(configuration, options));
        return configure is null ? services : services.AddSelectReactor(configure);
    }

    /// <summary>
    /// Adds a <see cref="TcpServer"/> that the host starts on the hosted reactor (registering the reactor as
    /// <see cref="AddSelectReactor(IServiceCollection, Action{SelectReactorHostOptions}?)"/> does, if that was not called). Each accepted connection gets a new
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
    /// <para>
    /// The handler type needs one public constructor, or one marked <see cref="ActivatorUtilitiesConstructorAttribute"/>
    /// among several: otherwise this throws at once, listing them. A constructor parameter that is not a registered
    /// service (and has no default value) fails the host's start, naming the handler and the parameter.
    /// </para>
    /// </remarks>
    /// <typeparam name="THandler">The connection handler; one instance per connection.</typeparam>
    /// <param name="services">The host's services.</param>
    /// <param name="endPoint">An <see cref="IPEndPoint"/> (port 0 picks a free port) or a <see cref="UnixDomainSocketEndPoint"/>.</param>
    /// <param name="configure">Sets the server's <see cref="TcpServerOptions"/>, called here, at once; <see langword="null"/> takes the defaults.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="endPoint"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="endPoint"/> is neither an <see cref="IPEndPoint"/> nor a
    /// <see cref="UnixDomainSocketEndPoint"/>, or the container could not choose a constructor of <typeparamref name="THandler"/>.</exception>
    public static IServiceCollection AddTcpServer<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler>(
        this IServiceCollection services,
        EndPoint endPoint,
        Action<TcpServerOptions>? configure = null)
        where THandler : ConnectionHandler
    {
        ArgumentNullException.ThrowIfNull(services);
        return AddServer<THandler>(services, null, endPoint, configure);
    }

    /// <summary>
    /// Same as <see cref="AddTcpServer{THandler}(IServiceCollection, EndPoint, Action{TcpServerOptions}?)"/>, under a
    /// name that <see cref="TcpServerRegistry.GetServer(string)"/> finds it by.
    /// </summary>
    /// <typeparam name="THandler">The connection handler; one instance per connection.</typeparam>
    /// <param name="services">The host's services.</param>
    /// <param name="name">A name unique among the host's servers.</param>
    /// <param name="endPoint">An <see cref="IPEndPoint"/> (port 0 picks a free port) or a <see cref="UnixDomainSocketEndPoint"/>.</param>
    /// <param name="configure">Sets the server's <see cref="TcpServerOptions"/>, called here, at once; <see langword="null"/> takes the defaults.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The name is empty or taken, the end point type is unsupported, or the
    /// container could not choose a constructor of <typeparamref name="THandler"/>.</exception>
    public static IServiceCollection AddTcpServer<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler>(
        this IServiceCollection services,
        string name,
        EndPoint endPoint,
        Action<TcpServerOptions>? configure = null)
        where THandler : ConnectionHandler
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(name);
        return AddServer<THandler>(services, name, endPoint, configure);
    }

    /// <summary>
    /// Adds a named <see cref="TcpServer"/> whose end point and options come from configuration, read when the host
    /// starts. Otherwise as <see cref="AddTcpServer{THandler}(IServiceCollection, EndPoint, Action{TcpServerOptions}?)"/>.
    /// </summary>
    /// <remarks>
    /// <para>
    /// The section holds <c>EndPoint</c> (required: "127.0.0.1:7000", "[::]:7000" or "unix:/run/app.sock"), and any
    /// of <c>Backlog</c>, <c>MaxConnections</c>, <c>AcceptBatch</c>, <c>NoDelay</c>, <c>InitialAcceptBackoff</c>,
    /// <c>MaxAcceptBackoff</c>, and a <c>Connection</c> subsection with <c>ReceiveBufferSize</c>,
    /// <c>MaxReadsPerReadiness</c>, <c>SendHighWatermark</c>, <c>SendLowWatermark</c>, <c>MaxPendingSendBytes</c>,
    /// <c>IdleTimeout</c>, <c>CloseTimeout</c> and <c>CloseFlushTimeout</c> (time spans as "00:00:30" or "Infinite"),
    /// and a <c>Tls</c> subsection that serves TLS: <c>Certificate</c> { <c>Path</c> (PEM or PKCS#12), <c>KeyPath</c>,
    /// <c>Password</c> },
    /// <c>HandshakeTimeout</c>, <c>Protocols</c> ("Tls12, Tls13"), <c>ApplicationProtocols</c> ("h2, http/1.1") and
    /// <c>ClientCertificateRequired</c> (anything else, such as SNI callbacks, through <c>configure</c>'s
    /// <see cref="TcpServerOptions.Tls"/>; the certificate is loaded when the host starts). Keys missing keep the
    /// defaults; an unknown key, a value that cannot be read or is out of range fails the host's start with an
    /// <see cref="InvalidOperationException"/> that names the key and the value.
    /// </para>
    /// <para>A conventional place is <c>SelectReactor:Servers:{name}</c>, beside the host options.</para>
    /// </remarks>
    /// <typeparam name="THandler">The connection handler; one instance per connection.</typeparam>
    /// <param name="services">The host's services.</param>
    /// <param name="name">A name unique among the host's servers.</param>
    /// <param name="configuration">The server's section, for example <c>builder.Configuration.GetSection("SelectReactor:Servers:chat")</c>.</param>
    /// <param name="configure">Applied after the configuration, when the host starts; <see langword="null"/> for none.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The name is empty or taken, or the container could not choose a constructor of <typeparamref name="THandler"/>.</exception>
    public static IServiceCollection AddTcpServer<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler>(
        this IServiceCollection services,
        string name,
        IConfiguration configuration,
        Action<TcpServerOptions>? configure = null)
        where THandler : ConnectionHandler
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(configuration);
        CheckName(services, name);
        HandlerActivation.CheckConstructors(typeof(THandler));
        services.AddSelectReactor();
        services.AddSingleton(new TcpServerSpec(name, typeof(THandler), Settings, HandlerFactory<THandler>));
        return services;

        (EndPoint, TcpServerOptions) Settings()
        {
            var options = new TcpServerOptions();
            HostingConfiguration.Bind(configuration, options);
            configure?.Invoke(options);
            return (HostingConfiguration.ReadEndPoint(configuration), options);
        }
    }

    private static IServiceCollection AddServer<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler>(
        IServiceCollection services,
        string? name,
        EndPoint endPoint,
        Action<TcpServerOptions>? configure)
        where THandler : ConnectionHandler
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        if (endPoint is not (IPEndPoint or UnixDomainSocketEndPoint))
        {
            throw new ArgumentException("Only IPEndPoint and UnixDomainSocketEndPoint can be listened on.", nameof(endPoint));
        }

        if (name is not null)
        {
            CheckName(services, name);
        }

        HandlerActivation.CheckConstructors(typeof(THandler));
        var options = new TcpServerOptions();
        configure?.Invoke(options);
        services.AddSelectReactor();
        services.AddSingleton(new TcpServerSpec(name, typeof(THandler), () => (endPoint, options), HandlerFactory<THandler>));
        return services;
    }

    private static Func<ConnectionHandler> HandlerFactory<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler>(IServiceProvider provider)
        where THandler : ConnectionHandler
    {
        ObjectFactory<THandler> create = ActivatorUtilities.CreateFactory<THandler>(Type.EmptyTypes);
        return () => create(provider, null);
    }

    private static void CheckName(IServiceCollection services, string name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new ArgumentException("A server's name must not be empty or white space.", nameof(name));
        }

        foreach (ServiceDescriptor descriptor in services)
        {
            if (descriptor.ServiceType == typeof(TcpServerSpec) && descriptor.ImplementationInstance is TcpServerSpec { Name: { } taken } && taken == name)
            {
                throw new ArgumentException($"A TCP server named '{name}' was already added; each server's name must be unique.", nameof(name));
            }
        }
    }

    private static HostedReactors CreateReactors(IServiceProvider provider)
    {
        SelectReactorHostOptions options = provider.GetRequiredService<IOptions<SelectReactorHostOptions>>().Value;
        return new HostedReactors(options, new ReactorOptions
        {
            Name = options.Name,
            MaxSelectTimeout = options.MaxSelectTimeout,
            MaxColdSocketDelay = options.MaxColdSocketDelay,
            LoggerFactory = provider.GetService<ILoggerFactory>(),
            TimeProvider = provider.GetService<TimeProvider>() ?? TimeProvider.System,
        });
    }
}
