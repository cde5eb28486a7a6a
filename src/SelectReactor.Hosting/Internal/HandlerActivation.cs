using System;
using System.Diagnostics.CodeAnalysis;
using System.Linq;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;

namespace SelectReactor.Hosting;

/// <summary>
/// Checks, before any connection comes, that the container can make a connection handler: its constructor is clear
/// and every service it needs is registered. Otherwise the failure would surface at start as dependency injection's
/// generic message, or only at the first connection, once per connection.
/// </summary>
internal static class HandlerActivation
{
    /// <summary>At <c>AddTcpServer</c>: one public constructor, or one marked <see cref="ActivatorUtilitiesConstructorAttribute"/>.</summary>
    /// <exception cref="ArgumentException">The handler type has no public constructor, or several and none marked.</exception>
    public static void CheckConstructors([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] Type handlerType)
    {
        _ = Constructor(handlerType);
    }

    /// <summary>At host start: every constructor parameter without a default value is a registered service.</summary>
    /// <exception cref="InvalidOperationException">A parameter's type is not registered.</exception>
    public static void CheckResolvable([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] Type handlerType, IServiceProvider services)
    {
        if (services.GetService(typeof(IServiceProviderIsService)) is not IServiceProviderIsService isService)
        {
            return; // a container that cannot tell: the first connection will
        }

        foreach (ParameterInfo parameter in Constructor(handlerType).GetParameters())
        {
            if (!parameter.HasDefaultValue && !isService.IsService(parameter.ParameterType))
            {
                throw new InvalidOperationException(
                    $"The connection handler {handlerType.Name} cannot be made: its constructor needs a {parameter.ParameterType.Name} " +
                    $"('{parameter.Name}'), which is not registered. Register it (for example services.AddSingleton<{parameter.ParameterType.Name}>()) " +
                    "or give the parameter a default value.");
            }
        }
    }

    private static ConstructorInfo Constructor([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] Type handlerType)
    {
        ConstructorInfo[] constructors = handlerType.GetConstructors();
        if (constructors.Length == 0)
        {
            throw new ArgumentException($"The connection handler {handlerType.Name} has no public constructor: the container makes one per connection, so it needs one.", nameof(handlerType));
        }

        if (constructors.Length == 1)
        {
            return constructors[0];
        }

        ConstructorInfo[] marked = constructors.Where(c => c.IsDefined(typeof(ActivatorUtilitiesConstructorAttribute), inherit: false)).ToArray();
        return marked.Length == 1
            ? marked[0]
            : throw new ArgumentException(
                $"The connection handler {handlerType.Name} has {constructors.Length} public constructors and the container cannot choose " +
                $"between them ({string.Join("; ", constructors.Select(Signature))}). Keep one public constructor, or mark the one to use " +
                "with [ActivatorUtilitiesConstructor].",
                nameof(handlerType));
    }

    private static string Signature(ConstructorInfo constructor) =>
        $"({string.Join(", ", constructor.GetParameters().Select(p => p.ParameterType.Name))})";
}
