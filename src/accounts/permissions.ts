// Roles and the permissions OctoPrint clients see. Every API route needs one permission (see api/permission-map).

export type Role = 'admin' | 'user' | 'readonly';

export const PERMISSIONS = [
  'ADMIN', 'STATUS', 'CONNECTION', 'CONTROL', 'PRINT', 'FILES_LIST', 'FILES_UPLOAD', 'FILES_DOWNLOAD', 'FILES_DELETE', 'FILES_SELECT',
  'SETTINGS_READ', 'SETTINGS', 'SYSTEM', 'TIMELAPSE_LIST', 'TIMELAPSE_DOWNLOAD', 'TIMELAPSE_DELETE', 'TIMELAPSE_ADMIN', 'WEBCAM', 'MONITOR_TERMINAL',
  'GCODE_VIEWER', 'PLUGIN_APPKEYS_GRANT',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const READONLY: Permission[] = ['STATUS', 'FILES_LIST', 'FILES_DOWNLOAD', 'SETTINGS_READ', 'TIMELAPSE_LIST', 'TIMELAPSE_DOWNLOAD', 'WEBCAM', 'MONITOR_TERMINAL', 'GCODE_VIEWER'];
const USER: Permission[] = [...READONLY, 'CONNECTION', 'CONTROL', 'PRINT', 'FILES_UPLOAD', 'FILES_DELETE', 'FILES_SELECT', 'TIMELAPSE_DELETE', 'PLUGIN_APPKEYS_GRANT'];

export function permissionsOf(roles: Role[]): Permission[] {
  if (roles.includes('admin')) return [...PERMISSIONS];
  if (roles.includes('user')) return USER;
  if (roles.includes('readonly')) return READONLY;
  return [];
}

/** OctoPrint's group names for a user's roles (FDM Monster refuses `guests`). */
export function groupsOf(roles: Role[]): string[] {
  if (roles.includes('admin')) return ['admins', 'users'];
  if (roles.includes('user')) return ['users'];
  return ['readonly'];
}
