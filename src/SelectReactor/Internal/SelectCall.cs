using System.Collections;

namespace SelectReactor;

/// <summary>The shape of <see cref="System.Net.Sockets.Socket.Select(IList, IList, IList, int)"/>: the seam tests use to inject faults.</summary>
internal delegate void SelectCall(IList? checkRead, IList? checkWrite, IList? checkError, int microSeconds);
