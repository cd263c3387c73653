// Printers removed whose retained MQTT topics (their Home Assistant device, their state) are not cleared yet: the
// broker was away when they went. Kept in mqtt-removals.json, so neither a broker that stays away nor a restart of
// Gantry leaves a device behind in Home Assistant: the bridge clears them at its next connection.
export interface MqttRemoval {
  printerId: string;
  /** every retained topic to empty */
  topics: string[];
  /** when the printer was removed */
  at: number;
}

export interface MqttRemovalsFile {
  removed: MqttRemoval[];
}

export const defaultMqttRemovals = (): MqttRemovalsFile => ({ removed: [] });
