/**
 * The driver contract and the registry that finds drivers by name: see {@link dev.orchestra}.
 * Drivers are found with {@link java.util.ServiceLoader}, on the class path and on the module path.
 */
module dev.orchestra {
  requires org.slf4j;

  exports dev.orchestra;
  exports dev.orchestra.spi;

  uses dev.orchestra.spi.DriverProvider;
}
