export interface Group {
  groupId: string;
  name: string;
  members: string[];
  admins: string[];
  createdAt: number;
}
