package dev.orchestra.example.minimal;

import dev.orchestra.Driver;
import dev.orchestra.Orchestra;
import dev.orchestra.tck.DriverTck;

/**
 * The whole driver contract. Opening the driver by name also proves that the services file
 * registers it.
 */
class MinimalDriverTckTest extends DriverTck {

  @Override
  protected Driver newDriver(String namespace) {
    return Orchestra.open("minimal", namespace);
  }
}
