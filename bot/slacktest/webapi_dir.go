package slacktest

func (s *Server) authTest(*apiRequest) apiResult {
	return ok(map[string]any{
		"url": "https://" + s.opts.TeamDomain + ".slack.com/", "team": s.opts.TeamName, "user": s.opts.BotName,
		"team_id": s.opts.TeamID, "user_id": s.opts.BotUserID, "bot_id": s.opts.BotID, "is_enterprise_install": false,
	})
}

func (s *Server) usersInfo(r *apiRequest) apiResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[r.str("user")]
	if u == nil {
		return fail("user_not_found")
	}
	return ok(map[string]any{"user": map[string]any{
		"id": u.ID, "team_id": u.TeamID, "name": u.Name, "real_name": u.RealName, "deleted": u.Deleted,
		"is_bot": u.IsBot, "is_app_user": false, "is_admin": u.IsAdmin, "is_owner": u.IsOwner,
		"is_restricted": u.IsRestricted, "is_ultra_restricted": u.IsUltraRestricted,
		"is_stranger": u.TeamID != s.opts.TeamID, "updated": s.clock.Now().Unix(),
		"profile": map[string]any{"display_name": u.Name, "real_name": u.RealName, "team": u.TeamID},
	}})
}

func (s *Server) usergroupsUsersList(r *apiRequest) apiResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	members, found := s.groups[r.str("usergroup")]
	if !found {
		return fail("no_such_subteam")
	}
	return ok(map[string]any{"users": append([]string{}, members...)})
}

func (s *Server) conversationsInfo(r *apiRequest) apiResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, found := s.resolveChannel(r.str("channel"), false)
	if !found {
		return fail("channel_not_found")
	}
	w := map[string]any{
		"id": c.ID, "name": c.Name, "created": c.Created, "is_channel": !c.IsIM && !c.IsPrivate,
		"is_group": c.IsPrivate, "is_im": c.IsIM, "is_private": c.IsPrivate || c.IsIM,
		"is_archived": c.IsArchived, "is_ext_shared": c.IsExtShared, "is_shared": c.IsExtShared,
		"is_org_shared": false, "is_member": !c.NotMember, "context_team_id": s.opts.TeamID,
	}
	if c.IsIM {
		w["user"] = c.User
	}
	if c.Members != nil {
		w["num_members"] = len(c.Members)
	}
	return ok(map[string]any{"channel": w})
}
