package dev.orchestra;

import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/** No driver is registered under the requested name. The message lists the available ones. */
public class DriverNotFoundException extends OrchestraException {

  private static final long serialVersionUID = 1L;

  /** The name that was asked for. */
  private final String driverName;

  /** The names that are registered. */
  private final SortedSet<String> available;

  /**
   * Creates the exception.
   *
   * @param driverName the name that was asked for
   * @param available the names that are registered
   */
  public DriverNotFoundException(String driverName, Set<String> available) {
    super(
        "no Orchestra driver named '"
            + driverName
            + "' on the class path; available: "
            + (available.isEmpty() ? "none" : String.join(", ", new TreeSet<>(available)))
            + " (add the driver's artifact, for example dev.orchestra:orchestra-"
            + driverName
            + ", as a dependency)");
    this.driverName = driverName;
    this.available = new TreeSet<>(available);
  }

  /**
   * The name that was asked for.
   *
   * @return the unknown driver name
   */
  public String driverName() {
    return driverName;
  }

  /**
   * The driver names that are registered.
   *
   * @return the available names, sorted, unmodifiable
   */
  public SortedSet<String> available() {
    return java.util.Collections.unmodifiableSortedSet(available);
  }
}
