import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Group } from '../../../domain/group.js';
import type { GroupService } from '../../../services/group-service.js';
import type { RegistrationService } from '../../../services/registration-service.js';
import { requireUser } from '../authenticate.js';

// Who is registered and what a name may be are checked by the service, for their own error codes.
const UserId = Type.String({ minLength: 1, maxLength: 64 });
const UserList = Type.Array(UserId);
const GroupParams = Type.Object({ groupId: Type.String() });
const GroupView = Type.Object({
  groupId: Type.String(),
  name: Type.String(),
  members: Type.Array(Type.String()),
  admins: Type.Array(Type.String()),
});
const GroupList = Type.Object({ groups: Type.Array(GroupView) });

const CreateBody = Type.Object({ name: Type.String(), members: Type.Optional(UserList) });
const MembersBody = Type.Object({ add: Type.Optional(UserList), remove: Type.Optional(UserList) });
const AdminsBody = Type.Object({ add: UserList });

function view(group: Group): Static<typeof GroupView> {
  return { groupId: group.groupId, name: group.name, members: group.members, admins: group.admins };
}

export function groupRoutes(app: FastifyInstance, registration: RegistrationService, groups: GroupService): void {
  // Authentication runs before the body is parsed and validated: a caller without a token gets
  // 401 whatever it sent, and learns nothing of the schemas.
  const users = new WeakMap<FastifyRequest, string>();
  const onRequest = async (request: FastifyRequest) => {
    users.set(request, await requireUser(request, registration));
  };
  const userOf = (request: FastifyRequest) => users.get(request)!;

  app.post<{ Body: Static<typeof CreateBody> }>(
    '/v1/groups',
    { onRequest, schema: { body: CreateBody, response: { 201: GroupView } } },
    async (request, reply) => {
      const userId = userOf(request);
      const group = await groups.create(userId, request.body.name, request.body.members ?? []);
      return reply.status(201).send(view(group));
    },
  );

  app.get('/v1/groups', { onRequest, schema: { response: { 200: GroupList } } }, async (request) => {
    const list = await groups.list(userOf(request));
    return { groups: list.map(view) };
  });

  app.get<{ Params: Static<typeof GroupParams> }>(
    '/v1/groups/:groupId',
    { onRequest, schema: { params: GroupParams, response: { 200: GroupView } } },
    async (request) => {
      const userId = userOf(request);
      return view(await groups.get(userId, request.params.groupId));
    },
  );

  app.post<{ Params: Static<typeof GroupParams>; Body: Static<typeof MembersBody> }>(
    '/v1/groups/:groupId/members',
    { onRequest, schema: { params: GroupParams, body: MembersBody, response: { 200: GroupView } } },
    async (request) => {
      const userId = userOf(request);
      return view(await groups.changeMembers(userId, request.params.groupId, request.body));
    },
  );

  app.post<{ Params: Static<typeof GroupParams>; Body: Static<typeof AdminsBody> }>(
    '/v1/groups/:groupId/admins',
    { onRequest, schema: { params: GroupParams, body: AdminsBody, response: { 200: GroupView } } },
    async (request) => {
      const userId = userOf(request);
      return view(await groups.addAdmins(userId, request.params.groupId, request.body.add));
    },
  );
}
