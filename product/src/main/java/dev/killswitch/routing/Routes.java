package dev.killswitch.routing;

import dev.killswitch.config.IpAddress;
import java.io.IOException;

/** Reads the kernel's routing state: the seam between the pure analysis and iproute2. */
public interface Routes {

    /** Routes of every table, the rules and the links, now. */
    Routing read() throws IOException;

    /** The interface the kernel's route lookup chooses for {@code destination}, or null when there is no route. */
    String deviceFor(IpAddress destination) throws IOException;
}
