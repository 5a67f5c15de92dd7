"""Pick-to-light over Modbus RTU: register-map profiles, a pure codec, a bus driver, a simulator."""
